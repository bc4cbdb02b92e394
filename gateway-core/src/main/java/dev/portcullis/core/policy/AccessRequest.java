package dev.portcullis.core.policy;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.net.IpAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The facts about one request that a policy decides on: what the request says, and facts derived from
 * it (the time, the client's country and ASN) that are computed lazily, when a rule first reads them, and
 * then kept for the rest of the evaluation.
 *
 * <p>Confined to the thread that evaluates it: the derived facts are cached without synchronization.
 */
public final class AccessRequest {
    private final String method;
    private final String path;
    private final String host;
    private final IpAddress clientIp;
    private final IpAddress peerIp;
    private final RequestHeaders headers;
    private final Identity identity;
    private final @Nullable RejectReason tokenRejection;
    private final String matchPath;
    private final Clock clock;
    private final GeoLookup geo;
    private @Nullable Instant now;
    private @Nullable String country;
    private long asn = -1;
    private boolean refererRead;
    private @Nullable String referer;
    private long refererParts = RefererParts.INVALID;
    private @Nullable RoleBits roleTable;
    private long roleBits;

    /**
     * @param method the request method, as received (case-sensitive)
     * @param path the canonical path ({@link dev.portcullis.core.http.RequestTarget})
     * @param host the Host header in lower case, without port; "" when absent
     * @param clientIp the client address after trusted-proxy resolution ({@link dev.portcullis.core.net.ClientIpResolver})
     * @param peerIp the TCP peer address
     * @param headers the request headers
     * @param identity who the request comes from (SPEC 3.5); {@link Identity#ANONYMOUS} when no credential was
     *     presented or a presented one was rejected
     * @param tokenRejection why a presented bearer token was rejected; null when none was presented or it was valid.
     *     The request is then anonymous, and a 401 answer says {@code error="invalid_token"}
     * @param matchPath what case-insensitive path conditions match: the {@link PathCase#fold fold} of {@code path},
     *     set once per request by a policy with {@code upstream.case_insensitive_paths}; otherwise {@code path}
     * @param clock where {@link #now()} comes from
     * @param geo where {@link #country()} and {@link #asn()} come from
     */
    public AccessRequest(
            String method,
            String path,
            String host,
            IpAddress clientIp,
            IpAddress peerIp,
            RequestHeaders headers,
            Identity identity,
            @Nullable RejectReason tokenRejection,
            String matchPath,
            Clock clock,
            GeoLookup geo) {
        this.method = Objects.requireNonNull(method, "method");
        this.path = Objects.requireNonNull(path, "path");
        this.host = Objects.requireNonNull(host, "host");
        this.clientIp = Objects.requireNonNull(clientIp, "clientIp");
        this.peerIp = Objects.requireNonNull(peerIp, "peerIp");
        this.headers = Objects.requireNonNull(headers, "headers");
        this.identity = Objects.requireNonNull(identity, "identity");
        this.tokenRejection = tokenRejection;
        this.matchPath = Objects.requireNonNull(matchPath, "matchPath");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.geo = Objects.requireNonNull(geo, "geo");
        if (tokenRejection != null && !identity.isAnonymous()) {
            // SPEC 3.5: a rejected token makes the request anonymous whatever else it carries.
            throw new IllegalArgumentException("a request whose token was rejected (" + tokenRejection.code()
                    + ") has a " + identity.source().code() + " identity (expected: anonymous)");
        }
    }

    /** A request on the system clock, without GeoIP, whose path conditions match {@code matchPath}. */
    public AccessRequest(
            String method,
            String path,
            String host,
            IpAddress clientIp,
            IpAddress peerIp,
            RequestHeaders headers,
            Identity identity,
            @Nullable RejectReason tokenRejection,
            String matchPath) {
        this(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, matchPath, Clock.systemUTC(),
                GeoLookup.NONE);
    }

    /** A request whose path conditions match {@code path} as it is. */
    public AccessRequest(
            String method,
            String path,
            String host,
            IpAddress clientIp,
            IpAddress peerIp,
            RequestHeaders headers,
            Identity identity,
            @Nullable RejectReason tokenRejection) {
        this(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, path);
    }

    /** An anonymous request that presented no token. */
    public AccessRequest(
            String method, String path, String host, IpAddress clientIp, IpAddress peerIp, RequestHeaders headers) {
        this(method, path, host, clientIp, peerIp, headers, Identity.ANONYMOUS, null);
    }

    /** This request, with path conditions matching the case fold of its path ({@link PathCase#fold}). */
    public AccessRequest withFoldedPath() {
        String folded = PathCase.fold(path);
        return folded.equals(matchPath)
                ? this
                : new AccessRequest(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, folded,
                        clock, geo);
    }

    /** This request on another clock and GeoIP lookup (for {@code explain}, {@code test} and tests). */
    public AccessRequest with(Clock otherClock, GeoLookup otherGeo) {
        return new AccessRequest(method, path, host, clientIp, peerIp, headers, identity, tokenRejection, matchPath,
                otherClock, otherGeo);
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public String host() {
        return host;
    }

    public IpAddress clientIp() {
        return clientIp;
    }

    public IpAddress peerIp() {
        return peerIp;
    }

    public RequestHeaders headers() {
        return headers;
    }

    public Identity identity() {
        return identity;
    }

    public @Nullable RejectReason tokenRejection() {
        return tokenRejection;
    }

    public String matchPath() {
        return matchPath;
    }

    /** The time the request is decided at: read from the clock once, when a rule first asks. */
    public Instant now() {
        Instant known = now;
        if (known == null) {
            known = clock.instant();
            now = known;
        }
        return known;
    }

    /** The client IP's country ({@link GeoLookup#UNKNOWN_COUNTRY} when unknown): looked up once, when first asked. */
    public String country() {
        String known = country;
        if (known == null) {
            known = geo.country(clientIp);
            country = known;
        }
        return known;
    }

    /** The client IP's country if a rule asked for it, else null: what the access log reports. */
    public @Nullable String countryIfKnown() {
        return country;
    }

    /** The client IP's autonomous system number ({@link GeoLookup#UNKNOWN_ASN} when unknown): looked up once. */
    public long asn() {
        long known = asn;
        if (known < 0) {
            known = geo.asn(clientIp);
            asn = known;
        }
        return known;
    }

    /**
     * The identity's roles as bits of {@code table}: computed when a role condition first asks, and again only if one
     * compiled into another policy asks (a matcher built alone has a table of its own).
     */
    long roleBits(RoleBits table) {
        if (roleTable != table) {
            roleBits = table.of(identity.indexedRoles());
            roleTable = table;
        }
        return roleBits;
    }

    /** The first {@code Referer} value, or null: read once, when a rule first asks. */
    @Nullable String referer() {
        readReferer();
        return referer;
    }

    /** The {@link RefererParts#parse parse} of {@link #referer()}: parsed once, with it. */
    long refererParts() {
        readReferer();
        return refererParts;
    }

    private void readReferer() {
        if (!refererRead) {
            String value = headers.first(ReferrerMatcher.HEADER);
            referer = value;
            refererParts = value == null ? RefererParts.INVALID : RefererParts.parse(value);
            refererRead = true;
        }
    }

    @Override
    public String toString() {
        return "AccessRequest[" + method + " " + path + " host=" + host + " client=" + clientIp + " peer=" + peerIp
                + " identity=" + identity.source().code() + "]";
    }
}
