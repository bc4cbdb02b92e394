package dev.portcullis.core.config;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.identity.JwtProviderSettings;
import dev.portcullis.core.identity.KeySource;
import dev.portcullis.core.identity.SigningAlgorithm;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.policy.HeaderMatcher;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Checks and compiles the {@code identity} section of a {@link GatewayConfig} into {@link IdentitySettings}. */
final class IdentityCompiler {

    /*
     * Implementation notes: the checks of this section need the values it compiles (an algorithm
     * fits a key source only once both are parsed), so they live here rather than in
     * ConfigValidator. Every provider is checked in full even after a problem, and each problem
     * is reported at its own key. Key files are only checked to exist and be readable: their
     * contents are loaded by the identity package when the resolver is built, on the reload
     * executor, so that a bad key fails the (re)load there with the identity package's message.
     * The identity package's factories validate their own syntax (SigningAlgorithm.parse,
     * KeySource, ClaimPath); their messages already show the value and what was expected.
     */

    private static final List<String> KEY_SOURCES = List.of("jwks_file", "jwks_url", "public_key_file", "secret_env");
    private static final String SAME_HEADER_AS = " is the same header as ";
    private static final String DISTINCT_ISSUERS =
            "expected: a distinct issuer per provider, since the token's iss picks the provider";

    private final Path baseDir;
    private final Problems problems;

    private IdentityCompiler(Path baseDir, Problems problems) {
        this.baseDir = baseDir;
        this.problems = problems;
    }

    /**
     * Checks and compiles {@code config.identity()}; returns null if it has a problem (reported).
     *
     * @param baseDir the folder that relative key file paths resolve against
     */
    static @Nullable IdentitySettings compile(GatewayConfig config, Path baseDir, Problems problems) {
        return new IdentityCompiler(baseDir, problems).identity(config.identity());
    }

    private @Nullable IdentitySettings identity(IdentityConfig identity) {
        int before = problemCount();
        List<JwtProviderSettings> providers = new ArrayList<>();
        for (JwtProviderConfig provider : identity.jwt()) {
            JwtProviderSettings settings = provider(provider);
            if (settings != null) {
                providers.add(settings);
            }
        }
        issuers(identity.jwt());
        ForwardedIdentity forwarded = forwarded(identity.forwarded());
        UpstreamIdentityHeaders upstream = upstreamHeaders(identity.upstreamHeaders());
        distinctIdentityHeaders(forwarded, upstream);
        if (problemCount() != before) {
            return null;
        }
        return new IdentitySettings(
                providers, forwarded, Objects.requireNonNull(upstream, "checked: upstream_headers"));
    }

    private @Nullable JwtProviderSettings provider(JwtProviderConfig provider) {
        String path = provider.path();
        int before = problemCount();

        List<String> written = new ArrayList<>(2);
        String[] texts = {provider.jwksFile(), provider.jwksUrl(), provider.publicKeyFile(), provider.secretEnv()};
        for (int i = 0; i < texts.length; i++) {
            if (texts[i] != null) {
                written.add(KEY_SOURCES.get(i));
            }
        }
        if (written.size() != 1) {
            problems.add(path, "jwt provider needs exactly one key source (" + String.join(", ", KEY_SOURCES)
                    + "), found " + (written.isEmpty() ? "none" : written.size() + ": " + String.join(", ", written)));
        }
        KeySource keySource = null;
        for (int i = 0; i < texts.length; i++) {
            String text = texts[i];
            if (text != null) {
                // Each written source is checked, even when there are too many of them.
                KeySource source = keySource(KEY_SOURCES.get(i), text, KeyPaths.key(path, KEY_SOURCES.get(i)));
                if (written.size() == 1) {
                    keySource = source;
                }
            }
        }

        String issuer = provider.issuer();
        if (issuer != null && issuer.isEmpty()) {
            problems.add(KeyPaths.key(path, "issuer"),
                    "\"\" is not a valid issuer (expected: the token's iss, e.g. https://auth.example.com/)");
        }
        for (int i = 0; i < provider.audience().size(); i++) {
            if (provider.audience().get(i).isEmpty()) {
                problems.add(KeyPaths.index(KeyPaths.key(path, "audience"), i),
                        "\"\" is not a valid audience (expected: a non-empty string, e.g. orders-api)");
            }
        }
        Set<SigningAlgorithm> algorithms = algorithms(provider, written);
        Duration jwksRefresh = provider.jwksRefresh();
        if (jwksRefresh != null && written.size() == 1 && !written.contains("jwks_url")) {
            problems.add(KeyPaths.key(path, "jwks_refresh"), "jwks_refresh is only used with jwks_url (this provider"
                    + " has " + written.get(0) + "; expected: no jwks_refresh, or a jwks_url)");
        }
        claimPath(provider.subjectClaim(), KeyPaths.key(path, "subject_claim"));
        claimPath(provider.rolesClaim(), KeyPaths.key(path, "roles_claim"));
        Set<String> types = types(provider);
        if (provider.audience().isEmpty()) {
            problems.warn(path, "no audience: tokens this issuer made for any other service are accepted too"
                    + " (expected: audience naming this service, e.g. [orders-api])");
        }

        if (problemCount() != before || keySource == null) {
            return null;
        }
        try {
            return new JwtProviderSettings(issuer, provider.audience(),
                    algorithms == null ? SigningAlgorithm.defaultsFor(keySource) : algorithms, keySource,
                    jwksRefresh == null ? JwtProviderSettings.DEFAULT_JWKS_REFRESH : jwksRefresh,
                    provider.subjectClaim(), provider.rolesClaim(), provider.clockSkew(), provider.requireExp(),
                    types == null ? Set.of() : types);
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigValues.messageOf(e));
            return null;
        }
    }

    /** The key source written under {@code key}; null if it is unusable (reported). */
    private @Nullable KeySource keySource(String key, String text, String path) {
        return switch (key) {
            case "jwks_file" -> file(text, path, "a JWK set file", KeySource.JwksFile::new);
            case "public_key_file" ->
                    file(text, path, "a PEM public key or certificate file", KeySource.PublicKeyFile::new);
            case "jwks_url" -> parse(path, () -> {
                URI uri;
                try {
                    uri = new URI(text);
                } catch (URISyntaxException e) {
                    throw new IllegalArgumentException(ConfigValues.quote(text) + " is not a valid jwks_url (expected:"
                            + " an absolute http or https URL, e.g. https://auth.example.com/.well-known/jwks.json)");
                }
                return new KeySource.JwksUrl(uri);
            });
            default -> parse(path, () -> new KeySource.SecretEnv(text));
        };
    }

    /**
     * A key file source, resolved against the config file's folder; it must exist and be readable now, so that a
     * typo is reported with its location instead of failing later when the keys are loaded.
     */
    private @Nullable KeySource file(String text, String path, String expected, Function<Path, KeySource> source) {
        String expectation = " (expected: " + expected + "; relative paths resolve against the config file's folder)";
        Path file;
        try {
            file = text.isEmpty() ? null : baseDir.resolve(text).normalize();
        } catch (InvalidPathException e) {
            file = null;
        }
        if (file == null) {
            problems.add(path, ConfigValues.quote(text) + " is not a valid file path" + expectation);
            return null;
        }
        String problem = !Files.exists(file) ? " does not exist"
                : Files.isDirectory(file) ? " is a folder"
                : !Files.isReadable(file) ? " is not readable"
                : null;
        if (problem != null) {
            problems.add(path, ConfigValues.quote(text) + problem + expectation);
            return null;
        }
        return source.apply(file);
    }

    /**
     * The allow-list; null when not written (the key source's defaults apply) or unusable (reported). Each
     * algorithm must fit the key source: HMAC algorithms with {@code secret_env}, and only with it.
     */
    private @Nullable Set<SigningAlgorithm> algorithms(JwtProviderConfig provider, List<String> written) {
        List<String> texts = provider.algorithms();
        if (texts == null) {
            return null;
        }
        String path = KeyPaths.key(provider.path(), "algorithms");
        if (texts.isEmpty()) {
            problems.add(path, "empty list (expected: at least one algorithm, e.g. [RS256, ES256])");
            return null;
        }
        Set<SigningAlgorithm> algorithms = EnumSet.noneOf(SigningAlgorithm.class);
        boolean complete = true;
        for (int i = 0; i < texts.size(); i++) {
            String itemPath = KeyPaths.index(path, i);
            String text = texts.get(i);
            SigningAlgorithm algorithm = parse(itemPath, () -> SigningAlgorithm.parse(text));
            if (algorithm == null) {
                complete = false;
                continue;
            }
            // The key source's own problems are reported at it; the fit is checked whenever exactly one is written.
            if (written.size() == 1) {
                String source = written.get(0);
                boolean secret = source.equals("secret_env");
                if (algorithm.isHmac() != secret) {
                    problems.add(itemPath, ConfigValues.quote(algorithm.name()) + " is not allowed with " + source
                            + (secret ? " (expected: HS256, HS384 or HS512 with secret_env)"
                                    : " (expected: an asymmetric algorithm such as RS256, PS256, ES256 or EdDSA with "
                                            + source + "; HS256, HS384 and HS512 only with secret_env)"));
                    complete = false;
                    continue;
                }
            }
            algorithms.add(algorithm);
        }
        return complete ? algorithms : null;
    }

    /** The {@code typ} allow-list; null when not written (no check) or unusable (reported). */
    private @Nullable Set<String> types(JwtProviderConfig provider) {
        List<String> texts = provider.types();
        if (texts == null) {
            return null;
        }
        String path = KeyPaths.key(provider.path(), "types");
        if (texts.isEmpty()) {
            problems.add(path, "empty list (expected: at least one typ value, e.g. [at+jwt, JWT]; omit types to"
                    + " accept any typ)");
            return null;
        }
        Set<String> types = new LinkedHashSet<>();
        boolean complete = true;
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text.isBlank()) {
                problems.add(KeyPaths.index(path, i), ConfigValues.quote(text)
                        + " is not a valid typ (expected: a typ header value, e.g. at+jwt or JWT)");
                complete = false;
            } else {
                types.add(text);
            }
        }
        return complete ? types : null;
    }

    /** With several providers, each needs an issuer of its own: the token's {@code iss} picks the provider. */
    private void issuers(List<JwtProviderConfig> providers) {
        if (providers.size() < 2) {
            return;
        }
        Map<String, String> firstUse = new HashMap<>();
        for (JwtProviderConfig provider : providers) {
            String issuer = provider.issuer();
            if (issuer == null) {
                problems.add(provider.path(),
                        "issuer is required when there are several jwt providers (" + DISTINCT_ISSUERS + ")");
            } else if (!issuer.isEmpty()) {
                String first = firstUse.putIfAbsent(issuer, provider.path());
                if (first != null) {
                    problems.add(KeyPaths.key(provider.path(), "issuer"), ConfigValues.quote(issuer)
                            + " already used by " + first + " (" + DISTINCT_ISSUERS + ")");
                }
            }
        }
    }

    private void claimPath(String dotted, String path) {
        parse(path, () -> ClaimPath.compile(dotted));
    }

    private @Nullable ForwardedIdentity forwarded(@Nullable ForwardedConfig forwarded) {
        if (forwarded == null) {
            return null;
        }
        String userHeader = headerName(forwarded.userHeader(), "identity.forwarded.user_header", "X-Forwarded-User");
        String rolesHeader =
                headerName(forwarded.rolesHeader(), "identity.forwarded.roles_header", "X-Forwarded-Groups");
        if (userHeader != null && rolesHeader != null && userHeader.equalsIgnoreCase(rolesHeader)) {
            problems.add("identity.forwarded.roles_header", ConfigValues.quote(rolesHeader) + SAME_HEADER_AS
                    + "user_header (expected: a different header)");
        }
        CidrSet proxies = forwardedProxies(forwarded.trustedProxies());
        return userHeader == null || proxies == null ? null : new ForwardedIdentity(proxies, userHeader, rolesHeader);
    }

    /**
     * {@code identity.forwarded.trusted_proxies}: the authenticating proxy's own addresses, apart from
     * {@code clients.trusted_proxies} so that a load balancer trusted for client addresses cannot name users.
     * A {@code /0} is an error, a range wider than a /16 (IPv4) or /48 (IPv6) a warning; null when missing (the
     * binder reported it) or unusable (reported).
     */
    private @Nullable CidrSet forwardedProxies(@Nullable List<String> texts) {
        if (texts == null) {
            return null;
        }
        String path = "identity.forwarded.trusted_proxies";
        if (texts.isEmpty()) {
            problems.add(path, "empty list (expected: the authenticating proxy's address, e.g. [\"10.0.0.7/32\"])");
            return null;
        }
        List<Cidr> cidrs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String itemPath = KeyPaths.index(path, i);
            String text = texts.get(i);
            Cidr cidr = parse(itemPath, () -> Cidr.parse(text));
            if (cidr == null) {
                continue;
            }
            boolean v4 = cidr.network().isIPv4();
            if (cidr.prefixLength() == 0) {
                problems.add(itemPath, ConfigValues.quote(text) + " would believe identity headers from every "
                        + (v4 ? "IPv4" : "IPv6") + " address (expected: the authenticating proxy's address, e.g. "
                        + (v4 ? "10.0.0.7/32" : "2001:db8::7/128") + "; a /0 is not allowed)");
                continue;
            }
            int widest = v4 ? 16 : 48;
            if (cidr.prefixLength() < widest) {
                problems.warn(itemPath, ConfigValues.quote(text) + " is wider than a /" + widest + ": every address"
                        + " in it may name any user (expected: the authenticating proxy's own address, e.g. "
                        + (v4 ? "10.0.0.7/32" : "2001:db8::7/128") + ")");
            }
            cidrs.add(cidr);
        }
        return cidrs.size() == texts.size() ? CidrSet.of(cidrs) : null;
    }

    private @Nullable UpstreamIdentityHeaders upstreamHeaders(UpstreamHeadersConfig headers) {
        String subject = headerName(headers.subject(), "identity.upstream_headers.subject", "X-Auth-Subject");
        String roles = headerName(headers.roles(), "identity.upstream_headers.roles", "X-Auth-Roles");
        if (subject == null || roles == null) {
            return null;
        }
        if (subject.equalsIgnoreCase(roles)) {
            problems.add("identity.upstream_headers.roles", ConfigValues.quote(roles) + SAME_HEADER_AS
                    + "subject (expected: a different header)");
            return null;
        }
        return new UpstreamIdentityHeaders(subject, roles);
    }

    /** {@code name} if it is a valid header name; null when it is not (reported) or was not written. */
    private @Nullable String headerName(@Nullable String name, String path, String example) {
        if (name == null) {
            return null;
        }
        if (!HeaderMatcher.isValidName(name)) {
            problems.add(path, ConfigValues.quote(name)
                    + " is not a valid header name (expected: an HTTP token, e.g. " + example + ")");
            return null;
        }
        String folded = fold(name);
        if (RESERVED_HEADERS.contains(folded) || folded.startsWith("x-forwarded-") && !folded.equals("x-forwarded-user")
                && !folded.equals("x-forwarded-groups") && !folded.equals("x-forwarded-email")
                && !folded.equals("x-forwarded-preferred-username")) {
            problems.add(path, ConfigValues.quote(name) + " is a header the gateway itself reads or sets"
                    + " (expected: a header of its own, e.g. " + example + ")");
            return null;
        }
        return name;
    }

    /** Header names as the gateway compares them: case-insensitive, {@code _} equal to {@code -}. */
    private static String fold(String name) {
        return name.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Headers that carry framing, routing, credentials or the gateway's own forwarding information. */
    private static final java.util.Set<String> RESERVED_HEADERS = java.util.Set.of(
            "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
            "expect", "authorization", "proxy-authorization", "cookie", "x-request-id", "forwarded", "x-real-ip",
            "x-client-ip");

    /** An upstream header that is also a forwarded-identity header would be stripped before it is read. */
    private void distinctIdentityHeaders(@Nullable ForwardedIdentity forwarded, @Nullable UpstreamIdentityHeaders upstream) {
        if (forwarded == null || upstream == null) {
            return;
        }
        for (String[] pair : new String[][] {
                {"subject", upstream.subject()}, {"roles", upstream.roles()}}) {
            String name = fold(pair[1]);
            if (name.equals(fold(forwarded.userHeader()))
                    || forwarded.rolesHeader() != null && name.equals(fold(forwarded.rolesHeader()))) {
                problems.add("identity.upstream_headers." + pair[0], ConfigValues.quote(pair[1])
                        + " is also a forwarded-identity header (expected: a header distinct from"
                        + " identity.forwarded.user_header and roles_header)");
            }
        }
    }

    /** Runs {@code factory}, reporting its {@link IllegalArgumentException} at {@code path}; null if it threw. */
    private <T> @Nullable T parse(String path, Supplier<T> factory) {
        try {
            return factory.get();
        } catch (IllegalArgumentException e) {
            problems.add(path, ConfigValues.messageOf(e));
            return null;
        }
    }

    private int problemCount() {
        return problems.size();
    }
}
