package dev.portcullis.core.config;

import dev.portcullis.core.identity.JwtProviderSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Binds the {@code identity} section: the jwt providers, the forwarded identity and the upstream identity headers. */
final class IdentityBinder {

    private static final List<String> IDENTITY_KEYS = List.of("jwt", "forwarded", "upstream_headers");
    private static final List<String> JWT_KEYS = List.of("issuer", "audience", "algorithms", "jwks_file", "jwks_url",
            "public_key_file", "secret_env", "jwks_refresh", "subject_claim", "roles_claim", "clock_skew", "require_exp",
            "types");
    private static final List<String> FORWARDED_KEYS = List.of("trusted_proxies", "user_header", "roles_header");
    private static final List<String> UPSTREAM_HEADERS_KEYS = List.of("subject", "roles");

    private final YamlValues read;
    private final Problems problems;

    IdentityBinder(YamlValues read) {
        this.read = read;
        this.problems = read.problems();
    }

    /** {@code identity} in the root section; all defaults when not written. */
    IdentityConfig identity(YamlSection root) {
        YamlSection identity = root.section("identity", IDENTITY_KEYS);
        List<JwtProviderConfig> jwt = jwtProviders(identity);
        ForwardedConfig forwarded = forwarded(identity);
        YamlSection upstream = identity.section("upstream_headers", UPSTREAM_HEADERS_KEYS);
        UpstreamHeadersConfig defaults = UpstreamHeadersConfig.DEFAULT;
        return new IdentityConfig(jwt, forwarded, new UpstreamHeadersConfig(
                upstream.string("subject", defaults.subject()), upstream.string("roles", defaults.roles())));
    }

    /** {@code identity.jwt}: one provider map, or a list of them. */
    private List<JwtProviderConfig> jwtProviders(YamlSection identity) {
        YamlNode node = identity.node("jwt");
        if (node == null || YamlValues.isNull(node)) {
            return List.of();
        }
        String path = identity.path("jwt");
        if (node instanceof YamlNode.Mapping mapping) {
            return List.of(jwtProvider(new YamlSection(read, mapping, path, JWT_KEYS, Set.of())));
        }
        if (!(node instanceof YamlNode.Sequence sequence)) {
            read.typeProblem(node, path, "a jwt provider (a map with issuer, jwks_url ...) or a list of them");
            return List.of();
        }
        if (sequence.items().isEmpty()) {
            problems.add(node.location(), path, "empty list (expected: at least one jwt provider)");
        }
        List<JwtProviderConfig> providers = new ArrayList<>();
        for (int i = 0; i < sequence.items().size(); i++) {
            YamlNode item = sequence.items().get(i);
            String itemPath = KeyPaths.index(path, i);
            problems.remember(itemPath, item.location());
            if (item instanceof YamlNode.Mapping mapping) {
                providers.add(jwtProvider(new YamlSection(read, mapping, itemPath, JWT_KEYS, Set.of())));
            } else {
                read.typeProblem(item, itemPath, "a jwt provider (a map with issuer, jwks_url ...)");
            }
        }
        return providers;
    }

    private JwtProviderConfig jwtProvider(YamlSection provider) {
        return new JwtProviderConfig(
                provider.path(),
                provider.optionalString("issuer"),
                audience(provider),
                provider.strings("algorithms", "a list of algorithms, e.g. [RS256, ES256]"),
                provider.optionalString("jwks_file"),
                provider.optionalString("jwks_url"),
                provider.optionalString("public_key_file"),
                provider.optionalString("secret_env"),
                provider.optionalDuration("jwks_refresh", false),
                provider.string("subject_claim", JwtProviderSettings.DEFAULT_SUBJECT_CLAIM),
                provider.string("roles_claim", JwtProviderSettings.DEFAULT_ROLES_CLAIM),
                provider.duration("clock_skew", JwtProviderSettings.DEFAULT_CLOCK_SKEW, true),
                provider.bool("require_exp", true),
                provider.strings("types", "a list of typ header values, e.g. [at+jwt, JWT]"));
    }

    /** {@code audience}: one string or a list of them; empty when not written or unusable (reported). */
    private List<String> audience(YamlSection provider) {
        YamlNode node = provider.node("audience");
        if (node == null) {
            return List.of();
        }
        String path = provider.path("audience");
        if (node instanceof YamlNode.Sequence) {
            List<String> audiences = read.strings(node, path, "a list of audiences");
            return audiences == null ? List.of() : audiences;
        }
        String text = YamlValues.textOf(node);
        if (text == null) {
            read.typeProblem(node, path, "an audience or a list of them, e.g. [orders-api]");
            return List.of();
        }
        return List.of(text);
    }

    /** {@code identity.forwarded}: null when not written, written with no value, or not a map (reported). */
    private @Nullable ForwardedConfig forwarded(YamlSection identity) {
        YamlNode node = identity.node("forwarded");
        YamlSection forwarded = identity.section("forwarded", FORWARDED_KEYS);
        if (!(node instanceof YamlNode.Mapping)) {
            return null;
        }
        return new ForwardedConfig(
                forwarded.requiredStrings("trusted_proxies",
                        "a list of CIDRs: the authenticating proxy's address, e.g. [\"10.0.0.7/32\"]"),
                forwarded.requiredString("user_header", "the header naming the user, e.g. X-Forwarded-User"),
                forwarded.optionalString("roles_header"));
    }
}
