package dev.portcullis.core.config;

import java.util.Objects;

/**
 * The compiled {@code identity.upstream_headers} section: the headers that tell the upstream who the client is.
 * Client-sent copies are always removed first (SPEC 3.5).
 *
 * @param subject the header carrying the subject
 * @param roles the header carrying the roles, comma separated
 */
public record UpstreamIdentityHeaders(String subject, String roles) {

    /** {@code X-Auth-Subject} and {@code X-Auth-Roles}. */
    public static final UpstreamIdentityHeaders DEFAULT = new UpstreamIdentityHeaders("X-Auth-Subject", "X-Auth-Roles");

    /** Rejects null header names. */
    public UpstreamIdentityHeaders {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(roles, "roles");
    }
}
