package dev.portcullis.core.identity;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * Verifies JWT bearer tokens for one or more providers and turns them into {@link Identity}s (SPEC 3.5).
 *
 * <p>Thread-safe and non-blocking: {@link #verify} never waits for I/O. Files and secrets are read in the
 * constructor; {@code jwks_url} key sets are fetched on the options' scheduler. Build a new resolver for
 * each configuration generation ({@link #reloaded} starts it warm) and {@link #close} the old one.
 */
public final class JwtIdentityResolver implements AutoCloseable {

    /*
     * Implementation notes.
     *
     * Order of checks, cheapest and least trusting first: length (no parsing of oversized input);
     * verified-token cache (a hit is byte for byte a token that passed every check below); syntax scan
     * (three canonical base64url parts); nimbus parse of header and claims;
     * provider chosen by the UNVERIFIED iss (only to pick whose keys and rules apply: every other
     * check, the signature first, is made with that provider); alg in the provider's allow-list;
     * crit; key selection and signature (SignatureTrial); then typ, exp (missing when require_exp
     * is set, or expired), nbf, iat, aud and the subject (TokenClaimsCheck), so a forged token is
     * reported as bad_signature and not as expired.
     *
     * Key selection never looks at jku, x5u, jwk or x5c: keys come from the provider's own key set,
     * filtered by kid (keys without a kid are candidates for every token, as in Envoy) and by whether
     * the key's type, curve and alg fit the token's alg. HMAC keys exist only for secret_env providers,
     * whose allow-list holds only HS algorithms, so a public key can never be used as an HMAC secret.
     *
     * Collaborators: VerifiedTokenCache (successful verifications, no credential kept), JwtProviders
     * (the provider each iss picks), KeyProviders (loading each provider's key source), SignatureTrial
     * (key selection and signature), TokenClaimsCheck (the checks after the signature, and the
     * Identity), BearerTokens (the Authorization header), JwtCounters (the counts, continued by the
     * resolver of the next generation), KeyWait (a token waiting for its key fetch, counted when its
     * request is settled: one count per presented token), RawTokenChecks (what the token's header and
     * payload say as written: crit in any form, alg none, the JSON types of sub and aud).
     */

    /** Tokens longer than this many characters are rejected without being parsed. */
    public static final int MAX_TOKEN_LENGTH = 8192;

    /** How long a verified token without {@code exp} is served from the cache before it is verified again. */
    static final Duration NO_EXP_CACHE_TTL = VerifiedTokenCache.NO_EXP_TTL;

    private final JwtResolverOptions options;
    private final Clock clock;
    private final JwtProviders providers;
    private final @Nullable VerifiedTokenCache cache;
    private final @Nullable JwksHttp http;
    private final JwtCounters counters;

    /**
     * A resolver with the {@linkplain JwtResolverOptions#defaults default options}.
     *
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     * @throws IllegalArgumentException when no provider is given, two share an issuer, or two have none
     */
    public JwtIdentityResolver(List<JwtProviderSettings> providers, Clock clock, ScheduledExecutorService scheduler,
            int cacheSize) throws KeySourceException {
        this(providers, JwtResolverOptions.defaults(clock, scheduler).withCacheSize(cacheSize));
    }

    /**
     * A resolver for {@code providers}; starts fetching every {@code jwks_url} in the background, unless the options
     * are {@linkplain JwtResolverOptions#offline() offline}.
     *
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     * @throws IllegalArgumentException when no provider is given, two share an issuer, or two have none
     */
    public JwtIdentityResolver(List<JwtProviderSettings> providers, JwtResolverOptions options)
            throws KeySourceException {
        this(providers, options, null, null);
    }

    private JwtIdentityResolver(List<JwtProviderSettings> settings, JwtResolverOptions options,
            @Nullable JwksHttp sharedHttp, @Nullable JwtIdentityResolver previous) throws KeySourceException {
        JwtProviders.checkIssuers(settings); // before an HTTP client is built
        this.options = options;
        this.clock = options.clock();
        this.counters = previous != null ? previous.counters : new JwtCounters();
        boolean fetches = options.fetchRemoteKeys()
                && settings.stream().anyMatch(s -> s.keySource() instanceof KeySource.JwksUrl);
        this.http = !fetches ? null : sharedHttp != null ? sharedHttp : new JwksHttp(options.scheduler(),
                options.fetchTimeout());
        List<JwtProvider> replaced = previous == null ? List.of() : previous.providers.all();
        this.providers = JwtProviders.load(settings, replaced, options, http);
        this.cache = options.cacheSize() == 0 ? null : new VerifiedTokenCache(options.cacheSize());
        for (JwtProvider provider : providers.all()) {
            if (provider.keys instanceof RemoteJwks remote) {
                remote.start();
            }
        }
    }

    /**
     * The resolver for a reloaded configuration, sharing {@code previous}'s options and HTTP client: a
     * {@code jwks_url} that {@code previous} also fetched starts with its last good key set (and is fetched
     * again at once), so no request is rejected because of the reload. Files are read again. The counts
     * continue from {@code previous}'s.
     * {@code previous} is left running; close it once the new resolver is in use.
     *
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     */
    public static JwtIdentityResolver reloaded(JwtIdentityResolver previous, List<JwtProviderSettings> providers)
            throws KeySourceException {
        return new JwtIdentityResolver(providers, previous.options, previous.http, previous);
    }

    /** Resolves an {@code Authorization} header value: {@link Resolution.NotPresented} unless it is a bearer token. */
    public Resolution resolve(@Nullable String authorization) {
        int start = BearerTokens.tokenStart(authorization);
        if (authorization == null || start < 0) {
            return Resolution.notPresented();
        }
        // read in place: a cache hit, nearly every request, never copies the token out of the header value
        Resolution result = verify(authorization, start, BearerTokens.tokenEnd(authorization), null);
        // a token refused only for want of its key is counted when its request is settled (afterKeyFetch, KeyWait)
        return awaitsKey(result) ? result : counters.count(result);
    }

    /** True for the rejections that {@link #afterKeyFetch} verifies again after a key fetch. */
    static boolean awaitsKey(Resolution resolution) {
        return resolution instanceof Resolution.Rejected rejected
                && (rejected.reason() == RejectReason.UNKNOWN_KID || rejected.reason() == RejectReason.NO_KEY_SOURCE);
    }

    /**
     * When {@link #resolve} gave {@code now}, a rejection only for want of the token's key (which it did not count),
     * the wait for the key fetch that the token started: its request is decided, and the token counted, with what
     * {@link KeyWait#settle()} returns (or {@link KeyWait#abandon()} counts). Null, and nothing to count, otherwise.
     */
    public @Nullable KeyWait afterKeyFetch(@Nullable String authorization, Resolution now) {
        if (!awaitsKey(now)) {
            return null; // every request with a token asks: no copy of the token on this path
        }
        // a copy of the token is fine here: this runs only after a token's key was missing
        String token = BearerTokens.parse(authorization);
        return token == null ? null : keyWait(token, now);
    }

    /** As {@link #resolve}, through {@link #verifyAsync}; for tests (the gateway waits through {@link KeyWait}). */
    CompletableFuture<Resolution> resolveAsync(@Nullable String authorization) {
        // a copy of the token is fine here: this runs only after a token's key was missing
        String token = BearerTokens.parse(authorization);
        return token == null ? CompletableFuture.completedFuture(Resolution.notPresented()) : verifyAsync(token);
    }

    /**
     * Verifies a bearer token now, without blocking: never {@link Resolution.NotPresented}. A token whose key
     * is not (yet) known is rejected ({@code unknown_kid}, {@code no_key_source}) and starts a background
     * refetch, at most once per 30 s per provider; a later token succeeds once it has landed.
     */
    public Resolution verify(String token) {
        return counters.count(verify(token, null));
    }

    /**
     * Verifies a bearer token; when its key is missing and a refetch is running (or may start now), the
     * future completes after that fetch, with the token verified against the new keys, and counts that
     * outcome. Otherwise it is already complete. Dependent actions may run on a background thread. For tests: the
     * gateway waits through {@link #afterKeyFetch}'s {@link KeyWait}, which it settles when it decides.
     */
    CompletableFuture<Resolution> verifyAsync(String token) {
        KeyWait wait = keyWait(token, null);
        return wait.landed().thenApply(ignored -> wait.settle());
    }

    /** Fetches every {@code jwks_url} now (joining running fetches); completes when all have landed or failed. */
    public CompletableFuture<Void> refreshKeys() {
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        for (JwtProvider provider : providers.all()) {
            fetches.add(provider.keys.refresh());
        }
        return CompletableFuture.allOf(fetches.toArray(new CompletableFuture<?>[0]));
    }

    /** Signature verifications performed (cache hits perform none). */
    public long signatureVerifications() {
        return counters.verifications.sum();
    }

    /** Tokens answered from the verified-token cache. */
    public long cacheHits() {
        return counters.cacheHits.sum();
    }

    /** Tokens accepted, from the cache or not. */
    public long resolvedCount() {
        return counters.resolved.sum();
    }

    /** Tokens rejected for {@code reason}. */
    public long rejectedCount(RejectReason reason) {
        return counters.rejected[reason.ordinal()].sum();
    }

    /** One status per provider, in configuration order. */
    public List<ProviderStatus> providerStatus() {
        List<ProviderStatus> all = new ArrayList<>(providers.all().size());
        for (JwtProvider provider : providers.all()) {
            all.add(provider.status());
        }
        return List.copyOf(all);
    }

    /** Stops the background refreshes of this resolver's key sets; the scheduler itself is the caller's. */
    @Override
    public void close() {
        for (JwtProvider provider : providers.all()) {
            provider.keys.close();
        }
    }

    private Resolution verify(String token, @Nullable Pending pending) {
        return verify(token, 0, token.length(), pending);
    }

    /** Verifies the token {@code text[start, end)}. */
    private Resolution verify(String text, int start, int end, @Nullable Pending pending) {
        if (end - start > MAX_TOKEN_LENGTH) {
            return Resolution.Rejected.of(RejectReason.TOKEN_TOO_LARGE);
        }
        Instant now = clock.instant();
        VerifiedTokenCache verified = cache;
        if (verified != null) {
            // byte for byte a token verified before: it passed the scan below when it was cached
            Resolution.Resolved hit = verified.hit(text, start, end, now);
            if (hit != null) {
                counters.cacheHits.increment();
                return hit;
            }
        }
        if (!VerifiedTokenCache.scan(text, start, end)) {
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
        return verifyInFull(text.substring(start, end), now, pending);
    }

    /** Verifies a token the cache did not answer, and caches it if it is accepted; on the thread that scanned it. */
    private Resolution verifyInFull(String token, Instant now, @Nullable Pending pending) {
        try {
            return verifyParsed(token, now, pending);
        } catch (RuntimeException e) {
            // a token of a shape the library or the checks do not expect (a header of JSON null makes nimbus throw
            // a NullPointerException) is a malformed token, never an exception on the event loop
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
    }

    private Resolution verifyParsed(String token, Instant now, @Nullable Pending pending) {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return Resolution.Rejected.of(
                    RawTokenChecks.declaresNone(token) ? RejectReason.ALGORITHM_NOT_ALLOWED : RejectReason.MALFORMED_TOKEN);
        }
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
        JwtProvider provider = providers.forIssuer(claims.getIssuer());
        if (provider == null) {
            return Resolution.Rejected.of(RejectReason.ISSUER_MISMATCH);
        }
        JWSHeader header = jwt.getHeader();
        RejectReason headerRejected = RawTokenChecks.headerRejected(provider, header, token);
        if (headerRejected != null) {
            return Resolution.Rejected.of(headerRejected);
        }

        KeySet keySet = provider.keys.current();
        if (keySet == null) {
            keyMissing(provider, pending);
            return Resolution.Rejected.of(RejectReason.NO_KEY_SOURCE);
        }
        SignatureTrial trial =
                SignatureTrial.run(jwt, header.getAlgorithm(), header.getKeyID(), keySet, counters.verifications);
        VerifyingKey key = trial.verifiedBy();
        if (key == null) {
            if (trial.kidUnknown()) {
                keyMissing(provider, pending);
            }
            return Resolution.Rejected.of(trial.failure());
        }

        if (!RawTokenChecks.registeredClaimsAreStrings(jwt)) {
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
        Resolution checked = provider.claims.check(header.getType(), claims, now);
        VerifiedTokenCache verified = cache;
        if (verified != null && checked instanceof Resolution.Resolved result) {
            Instant expiresAt = result.identity().expiresAt();
            Instant validUntil = expiresAt != null ? expiresAt : now.plus(NO_EXP_CACHE_TTL);
            verified.put(result, provider, keySet, key, now, validUntil);
        }
        return checked;
    }

    /**
     * Verifies {@code token} again, joining the key fetch that its missing key starts (or that is running); the
     * wait's {@code meanwhile} is {@code now}, or this verification when null. Counts nothing.
     */
    private KeyWait keyWait(String token, @Nullable Resolution now) {
        Pending pending = new Pending();
        Resolution first = verify(token, pending);
        CompletableFuture<Void> fetch = pending.fetch;
        CompletableFuture<Resolution> landed = fetch == null ? CompletableFuture.completedFuture(first)
                : fetch.handle((ignored, error) -> verify(token, null));
        return new KeyWait(landed, now != null ? now : first, counters);
    }

    private static void keyMissing(JwtProvider provider, @Nullable Pending pending) {
        CompletableFuture<Void> fetch = provider.keys.keyMissing();
        if (pending != null) {
            pending.fetch = fetch;
        }
    }

    /** The fetch a {@link KeyWait} may wait for; set by the verification that found the key missing. */
    private static final class Pending {
        @Nullable CompletableFuture<Void> fetch;
    }
}
