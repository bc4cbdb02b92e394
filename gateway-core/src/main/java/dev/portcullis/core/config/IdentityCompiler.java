package dev.portcullis.core.config;

import dev.portcullis.core.identity.JwtProviderSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Checks and compiles the {@code identity} section of a {@link GatewayConfig} into {@link IdentitySettings}: the
 * jwt providers ({@link JwtProviderCompiler}) and the identity headers ({@link IdentityHeadersCompiler}).
 */
final class IdentityCompiler {

    /*
     * Implementation notes: the checks of this section need the values it compiles (an algorithm
     * fits a key source only once both are parsed), so they live here rather than in
     * ConfigValidator.
     */

    private IdentityCompiler() {}

    /**
     * Checks and compiles {@code config.identity()}; returns null if it has a problem (reported).
     *
     * @param baseDir the folder that relative key file paths resolve against
     * @param keyFiles whether key files must exist and be readable now
     */
    static @Nullable IdentitySettings compile(GatewayConfig config, Path baseDir, ConfigLoader.NamedFiles keyFiles,
            Problems problems) {
        IdentityConfig identity = config.identity();
        int before = problems.size();
        List<JwtProviderSettings> providers = JwtProviderCompiler.compile(identity.jwt(), baseDir, keyFiles, problems);
        IdentityHeadersCompiler headers = new IdentityHeadersCompiler(problems);
        ForwardedIdentity forwarded = headers.forwarded(identity.forwarded());
        UpstreamIdentityHeaders upstream = headers.upstreamHeaders(identity.upstreamHeaders());
        headers.distinctIdentityHeaders(identity.forwarded(), upstream);
        if (problems.size() != before) {
            return null;
        }
        return new IdentitySettings(
                providers, forwarded, Objects.requireNonNull(upstream, "checked: upstream_headers"));
    }
}
