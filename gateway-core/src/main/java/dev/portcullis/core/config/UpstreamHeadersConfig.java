package dev.portcullis.core.config;

/**
 * The {@code identity.upstream_headers} section as written: what the upstream is told about the identity (SPEC 3.5).
 *
 * @param subject the header carrying the subject
 * @param roles the header carrying the roles, comma separated
 */
public record UpstreamHeadersConfig(String subject, String roles) {

    /** {@code X-Auth-Subject} and {@code X-Auth-Roles}, as {@link UpstreamIdentityHeaders#DEFAULT}. */
    public static final UpstreamHeadersConfig DEFAULT = new UpstreamHeadersConfig(
            UpstreamIdentityHeaders.DEFAULT.subject(), UpstreamIdentityHeaders.DEFAULT.roles());
}
