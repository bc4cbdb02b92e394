package dev.portcullis.core.config;

import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.ClientIpResolver;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The entry point of the config layer: reads {@code policy.yaml}, binds, validates and compiles it into a
 * {@link CompiledConfig}, or throws a {@link ConfigException} listing every problem in the file.
 *
 * <p>Loading does no network I/O and can run on any thread; the reload path runs it off the
 * event loops. It reads no key material either: it only checks that key files named by
 * {@code identity.jwt} and the GeoIP databases exist and are readable, unless loaded with
 * {@link NamedFiles#UNCHECKED}. The steps are {@link YamlTreeReader} (syntax,
 * with locations), {@link ConfigBinder} (keys, types, units), {@link ConfigValidator}
 * (semantics), {@link IdentityCompiler} (the identity section) and {@link PolicyCompiler}
 * (matchers); each reports into the same problem list, and a later step still runs when an
 * earlier one found problems, so that one attempt shows them all.
 */
public final class ConfigLoader {

    /** Whether the key files and GeoIP databases a config names are checked as it loads. */
    public enum NamedFiles {
        /** They must exist and be readable now: for a config that is served, checked or explained. */
        CHECKED,
        /**
         * Only their paths are resolved, and nothing is checked about the files: for {@code portcullis test},
         * which uses neither keys nor GeoIP. A config loaded so must not be used to build a generation.
         */
        UNCHECKED
    }

    private ConfigLoader() {}

    /**
     * Loads a config file, checking the files it names; problems name the file as {@code file.toString()}, and
     * relative paths in the config resolve against the file's folder.
     *
     * @throws ConfigException if the file is not a valid config, or larger than {@link ConfigText#MAX_BYTES}
     * @throws IOException if the file cannot be read
     */
    public static CompiledConfig load(Path file) throws ConfigException, IOException {
        return load(file, NamedFiles.CHECKED);
    }

    /**
     * Loads a config file as {@link #load(Path)} does, checking the key files and GeoIP databases it names only
     * when {@code namedFiles} is {@link NamedFiles#CHECKED}.
     *
     * @throws ConfigException if the file is not a valid config, or larger than {@link ConfigText#MAX_BYTES}
     * @throws IOException if the file cannot be read
     */
    public static CompiledConfig load(Path file, NamedFiles namedFiles) throws ConfigException, IOException {
        byte[] yaml = ConfigText.readBytes(file);
        Path absolute = file.toAbsolutePath();
        Path folder = absolute.getParent();
        return load(file.toString(), yaml, folder == null ? absolute : folder, namedFiles);
    }

    /**
     * Loads a config from its bytes.
     *
     * @param displayName the file name shown in problems
     * @param yaml the file's bytes, UTF-8
     * @param baseDir the folder that relative file paths in the config resolve against
     * @throws ConfigException if the bytes are not a valid config
     */
    public static CompiledConfig load(String displayName, byte[] yaml, Path baseDir) throws ConfigException {
        return load(displayName, yaml, baseDir, NamedFiles.CHECKED);
    }

    private static CompiledConfig load(String displayName, byte[] yaml, Path baseDir, NamedFiles namedFiles)
            throws ConfigException {
        Problems problems = new Problems(displayName);
        YamlNode root = YamlTreeReader.read(yaml, problems);
        GatewayConfig config = root == null ? null : ConfigBinder.bind(root, problems);
        if (config == null) {
            throw problems.toException();
        }
        ConfigValidator.validate(config, problems);
        CidrSet trustedProxies = CidrLists.clientProxies(config.clients().trustedProxies(), problems);
        IdentitySettings identity = IdentityCompiler.compile(config, baseDir, namedFiles, problems);
        GeoIpSettings geoip = GeoIpCompiler.compile(config, baseDir, namedFiles, problems);
        Policy policy = PolicyCompiler.compile(config, problems);
        CustomResponses responses = ResponsesCompiler.compile(config, baseDir, problems);
        SharedStoreSettings rateLimitStore = RateLimitsCompiler.store(config, problems);
        List<RateLimitDefinition> rateLimits = RateLimitsCompiler.compile(config, rateLimitStore, problems);
        if (identity == null || policy == null || !problems.isEmpty()) {
            throw problems.toException();
        }
        return new CompiledConfig(
                displayName,
                version(yaml),
                HostPort.parse(config.listen()),
                HostPort.parse(config.admin().listen()),
                config.watch(),
                config.drainTimeout(),
                upstream(config.upstream()),
                limits(config.limits()),
                new ClientIpResolver(trustedProxies),
                identity,
                policy,
                geoip,
                responses,
                rateLimits,
                rateLimitStore,
                problems.warnings());
    }

    /** {@code sha256:} and the lower-case hex SHA-256 of {@code yaml}: what identifies a config generation. */
    static String version(byte[] yaml) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(yaml));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static UpstreamSettings upstream(UpstreamConfig upstream) {
        UpstreamUrl url = UpstreamUrl.parse(Objects.requireNonNull(upstream.url(), "validated: upstream.url"));
        return new UpstreamSettings(url.scheme(), url.host(), url.port(), url.authority(),
                upstream.connectTimeout(), upstream.responseTimeout(), upstream.maxConnections(),
                upstream.caseInsensitivePaths());
    }

    private static Limits limits(LimitsConfig limits) {
        // The binder keeps the two header-side sizes below 2GiB.
        return new Limits(Math.toIntExact(limits.maxUriLength()), Math.toIntExact(limits.maxHeaderSize()),
                limits.maxBodySize(), limits.headerTimeout(), limits.idleTimeout(), limits.maxConnections(),
                limits.allowGetBody());
    }
}
