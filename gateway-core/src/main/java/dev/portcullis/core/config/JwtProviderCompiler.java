package dev.portcullis.core.config;

import dev.portcullis.core.identity.ClaimPath;
import dev.portcullis.core.identity.JwtProviderSettings;
import dev.portcullis.core.identity.KeySource;
import dev.portcullis.core.identity.SigningAlgorithm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Checks and compiles the {@code identity.jwt} providers into {@link JwtProviderSettings}. */
final class JwtProviderCompiler {

    /*
     * Implementation notes: every provider is checked in full even after a problem, and each
     * problem is reported at its own key. The identity package's factories validate their own
     * syntax (SigningAlgorithm.parse, KeySource, ClaimPath); their messages already show the value
     * and what was expected.
     */

    /** A skew above this is a warning: it stretches every token's lifetime by that much. */
    private static final Duration MAX_QUIET_CLOCK_SKEW = Duration.ofMinutes(5);
    private static final String DISTINCT_ISSUERS =
            "expected: a distinct issuer per provider, since the token's iss picks the provider";

    private final KeySourceCompiler keySources;
    private final Problems problems;

    private JwtProviderCompiler(Path baseDir, ConfigLoader.NamedFiles keyFiles, Problems problems) {
        this.keySources = new KeySourceCompiler(baseDir, keyFiles, problems);
        this.problems = problems;
    }

    /**
     * The providers without a problem (the others are reported), and a problem for each issuer that does not pick
     * one provider.
     *
     * @param baseDir the folder that relative key file paths resolve against
     * @param keyFiles whether key files must exist and be readable now
     */
    static List<JwtProviderSettings> compile(List<JwtProviderConfig> configs, Path baseDir,
            ConfigLoader.NamedFiles keyFiles, Problems problems) {
        JwtProviderCompiler compiler = new JwtProviderCompiler(baseDir, keyFiles, problems);
        List<JwtProviderSettings> providers = new ArrayList<>();
        for (JwtProviderConfig provider : configs) {
            JwtProviderSettings settings = compiler.provider(provider);
            if (settings != null) {
                providers.add(settings);
            }
        }
        compiler.issuers(configs);
        return providers;
    }

    private @Nullable JwtProviderSettings provider(JwtProviderConfig provider) {
        String path = provider.path();
        int before = problems.size();
        KeySourceCompiler.Written written = keySources.compile(provider);

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
        Set<SigningAlgorithm> algorithms = algorithms(provider, written.key());
        Duration jwksRefresh = provider.jwksRefresh();
        if (jwksRefresh != null && written.key() != null && !written.key().equals("jwks_url")) {
            // a warning, not an error: SPEC's own example keeps jwks_refresh beside jwks_file, ready for a jwks_url
            problems.warn(KeyPaths.key(path, "jwks_refresh"), "jwks_refresh has no effect here: only keys fetched"
                    + " from a jwks_url are refreshed, this provider has " + written.key()
                    + " (expected: no jwks_refresh, or a jwks_url)");
        }
        claimPath(provider.subjectClaim(), KeyPaths.key(path, "subject_claim"));
        claimPath(provider.rolesClaim(), KeyPaths.key(path, "roles_claim"));
        Set<String> types = types(provider);
        if (provider.clockSkew().compareTo(MAX_QUIET_CLOCK_SKEW) > 0) {
            long seconds = provider.clockSkew().toSeconds();
            problems.warn(KeyPaths.key(path, "clock_skew"), "clock_skew of "
                    + (seconds % 60 == 0 ? seconds / 60 + " minutes" : seconds + " seconds")
                    + " accepts tokens that long after their exp, and before their nbf (expected: seconds to a"
                    + " few minutes, e.g. 30s; more than 5m is warned about)");
        }
        if (provider.audience().isEmpty()) {
            problems.warn(path, "no audience: tokens this issuer made for any other service are accepted too"
                    + " (expected: audience naming this service, e.g. [orders-api])");
        }

        KeySource keySource = written.source();
        if (problems.size() != before || keySource == null) {
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

    /**
     * The allow-list; null when not written (the key source's defaults apply) or unusable (reported). Each
     * algorithm must fit the key source: HMAC algorithms with {@code secret_env}, and only with it.
     *
     * @param source the key of the provider's one key source; null when none or several were written
     */
    private @Nullable Set<SigningAlgorithm> algorithms(JwtProviderConfig provider, @Nullable String source) {
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
            SigningAlgorithm algorithm = problems.parse(itemPath, () -> SigningAlgorithm.parse(text));
            if (algorithm == null) {
                complete = false;
                continue;
            }
            // The key source's own problems are reported at it; the fit is checked whenever exactly one is written.
            if (source != null) {
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
        problems.parse(path, () -> ClaimPath.compile(dotted));
    }
}
