package dev.portcullis.core.identity;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.LongAdder;
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
     * syntax scan (three base64url parts); verified-token cache; nimbus parse of header and claims;
     * provider chosen by the UNVERIFIED iss (only to pick whose keys and rules apply: every other
     * check, the signature first, is made with that provider); alg in the provider's allow-list;
     * crit; key selection; signature; then exp, nbf, iat, aud and the subject, so a forged token
     * is reported as bad_signature and not as expired.
     *
     * Key selection never looks at jku, x5u, jwk or x5c: keys come from the provider's own key set,
     * filtered by kid (keys without a kid are candidates for every token, as in Envoy) and by whether
     * the key's type, curve and alg fit the token's alg. HMAC keys exist only for secret_env providers,
     * whose allow-list holds only HS algorithms, so a public key can never be used as an HMAC secret.
     *
     * Cache: keyed by the SHA-256 of the token's signature part, holding the Resolved outcome with the
     * provider, key set and key that verified it, and the token's signing input (header.payload), which a
     * hit must match exactly. No credential is kept: without its signature a token is worthless. A hit is valid while the provider's
     * current key set is that set or still holds that key, and the clock is before the token's exp
     * (or NO_EXP_CACHE_TTL after verification for a token without exp). Only successes are cached.
     */

    /** Tokens longer than this many characters are rejected without being parsed. */
    public static final int MAX_TOKEN_LENGTH = 8192;

    /** How long a verified token without {@code exp} is served from the cache before it is verified again. */
    static final Duration NO_EXP_CACHE_TTL = Duration.ofMinutes(5);

    private final JwtResolverOptions options;
    private final Clock clock;
    private final List<JwtProvider> providers;
    private final Map<String, JwtProvider> byIssuer;
    private final @Nullable JwtProvider withoutIssuer;
    private final @Nullable Cache<TokenKey, CachedIdentity> cache;
    private final @Nullable JwksHttp http;

    private final LongAdder verifications = new LongAdder();
    private final LongAdder cacheHits = new LongAdder();
    private final LongAdder resolved = new LongAdder();
    private final LongAdder[] rejected = new LongAdder[RejectReason.values().length];

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
     * A resolver for {@code providers}; starts fetching every {@code jwks_url} in the background.
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
        checkIssuers(settings);
        this.options = options;
        this.clock = options.clock();
        for (int i = 0; i < rejected.length; i++) {
            rejected[i] = new LongAdder();
        }
        boolean fetches = settings.stream().anyMatch(s -> s.keySource() instanceof KeySource.JwksUrl);
        this.http = !fetches ? null : sharedHttp != null ? sharedHttp : new JwksHttp(options.scheduler(),
                options.fetchTimeout());
        List<JwtProvider> built = new ArrayList<>(settings.size());
        Map<String, JwtProvider> issuers = new HashMap<>();
        JwtProvider fallback = null;
        for (int i = 0; i < settings.size(); i++) {
            JwtProviderSettings provider = settings.get(i);
            JwtProvider compiled = new JwtProvider(i, provider, load(i, provider, previous));
            built.add(compiled);
            String issuer = provider.issuer();
            if (issuer == null) {
                fallback = compiled;
            } else {
                issuers.put(issuer, compiled);
            }
        }
        this.providers = List.copyOf(built);
        this.byIssuer = Map.copyOf(issuers);
        this.withoutIssuer = fallback;
        this.cache = options.cacheSize() == 0 ? null : Caffeine.newBuilder()
                .maximumSize(options.cacheSize())
                .expireAfter(Expiry.<TokenKey, CachedIdentity>creating((key, entry) -> entry.ttl()))
                .executor(Runnable::run)
                .build();
        for (JwtProvider provider : providers) {
            if (provider.keys instanceof RemoteJwks remote) {
                remote.start();
            }
        }
    }

    /**
     * The resolver for a reloaded configuration, sharing {@code previous}'s options and HTTP client: a
     * {@code jwks_url} that {@code previous} also fetched starts with its last good key set (and is fetched
     * again at once), so no request is rejected because of the reload. Files are read again.
     * {@code previous} is left running; close it once the new resolver is in use.
     *
     * @throws KeySourceException when a file, PEM or secret cannot be loaded
     */
    public static JwtIdentityResolver reloaded(JwtIdentityResolver previous, List<JwtProviderSettings> providers)
            throws KeySourceException {
        return new JwtIdentityResolver(providers, previous.options, previous.http, previous);
    }

    /**
     * The bearer token of an {@code Authorization} header value: null when there is no header or its scheme
     * is not {@code Bearer} (case-insensitive), {@code ""} when the scheme has no token.
     */
    public static @Nullable String bearerToken(@Nullable String authorization) {
        if (authorization == null) {
            return null;
        }
        int start = 0;
        int end = authorization.length();
        while (start < end && isWhitespace(authorization.charAt(start))) {
            start++;
        }
        while (end > start && isWhitespace(authorization.charAt(end - 1))) {
            end--;
        }
        if (end - start < 6 || !authorization.regionMatches(true, start, "Bearer", 0, 6)) {
            return null;
        }
        int i = start + 6;
        if (i == end) {
            return "";
        }
        if (!isWhitespace(authorization.charAt(i))) {
            return null;
        }
        while (i < end && isWhitespace(authorization.charAt(i))) {
            i++;
        }
        return authorization.substring(i, end);
    }

    /** Resolves an {@code Authorization} header value: {@link Resolution.NotPresented} unless it is a bearer token. */
    public Resolution resolve(@Nullable String authorization) {
        String token = bearerToken(authorization);
        return token == null ? Resolution.notPresented() : verify(token);
    }

    /** As {@link #resolve}, through {@link #verifyAsync}. */
    public CompletableFuture<Resolution> resolveAsync(@Nullable String authorization) {
        String token = bearerToken(authorization);
        return token == null ? CompletableFuture.completedFuture(Resolution.notPresented()) : verifyAsync(token);
    }

    /**
     * Verifies a bearer token now, without blocking: never {@link Resolution.NotPresented}. A token whose key
     * is not (yet) known is rejected ({@code unknown_kid}, {@code no_key_source}) and starts a background
     * refetch, at most once per 30 s per provider; a later token succeeds once it has landed.
     */
    public Resolution verify(String token) {
        return count(verify(token, null));
    }

    /**
     * Verifies a bearer token; when its key is missing and a refetch is running (or may start now), the
     * future completes after that fetch, with the token verified against the new keys. Otherwise it is
     * already complete. Dependent actions may run on the scheduler's thread.
     */
    public CompletableFuture<Resolution> verifyAsync(String token) {
        Pending pending = new Pending();
        Resolution first = verify(token, pending);
        CompletableFuture<Void> fetch = pending.fetch;
        if (fetch == null) {
            return CompletableFuture.completedFuture(count(first));
        }
        return fetch.handle((ignored, error) -> count(verify(token, null)));
    }

    /** Fetches every {@code jwks_url} now (joining running fetches); completes when all have landed or failed. */
    public CompletableFuture<Void> refreshKeys() {
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        for (JwtProvider provider : providers) {
            fetches.add(provider.keys.refresh());
        }
        return CompletableFuture.allOf(fetches.toArray(new CompletableFuture<?>[0]));
    }

    /** Signature verifications performed (cache hits perform none). */
    public long signatureVerifications() {
        return verifications.sum();
    }

    /** Tokens answered from the verified-token cache. */
    public long cacheHits() {
        return cacheHits.sum();
    }

    /** Tokens accepted, from the cache or not. */
    public long resolvedCount() {
        return resolved.sum();
    }

    /** Tokens rejected for {@code reason}. */
    public long rejectedCount(RejectReason reason) {
        return rejected[reason.ordinal()].sum();
    }

    /** One status per provider, in configuration order. */
    public List<ProviderStatus> providerStatus() {
        List<ProviderStatus> all = new ArrayList<>(providers.size());
        for (JwtProvider provider : providers) {
            all.add(provider.status());
        }
        return List.copyOf(all);
    }

    /** Stops the background refreshes of this resolver's key sets; the scheduler itself is the caller's. */
    @Override
    public void close() {
        for (JwtProvider provider : providers) {
            provider.keys.close();
        }
    }

    private Resolution verify(String token, @Nullable Pending pending) {
        if (token.length() > MAX_TOKEN_LENGTH) {
            return Resolution.Rejected.of(RejectReason.TOKEN_TOO_LARGE);
        }
        Scratch scratch = SCRATCH.get();
        int length = scratch.copyIfCompactJws(token);
        if (length < 0) {
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
        Instant now = clock.instant();
        TokenKey cacheKey = null;
        Cache<TokenKey, CachedIdentity> verified = cache;
        if (verified != null) {
            cacheKey = scratch.digestSignature(length);
            CachedIdentity hit = verified.getIfPresent(cacheKey);
            if (hit != null && hit.signs(scratch.bytes, scratch.signatureStart)) {
                if (hit.isValid(now)) {
                    cacheHits.increment();
                    return hit.resolution();
                }
                verified.invalidate(cacheKey);
            }
        }

        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException e) {
            return Resolution.Rejected.of(
                    declaresNone(token) ? RejectReason.ALGORITHM_NOT_ALLOWED : RejectReason.MALFORMED_TOKEN);
        }
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN);
        }
        JwtProvider provider = provider(claims.getIssuer());
        if (provider == null) {
            return Resolution.Rejected.of(RejectReason.ISSUER_MISMATCH);
        }
        JWSHeader header = jwt.getHeader();
        JWSAlgorithm algorithm = header.getAlgorithm();
        if (!provider.algorithms.contains(algorithm)) {
            return Resolution.Rejected.of(RejectReason.ALGORITHM_NOT_ALLOWED);
        }
        Set<String> critical = header.getCriticalParams();
        if ((critical != null && !critical.isEmpty()) || !header.isBase64URLEncodePayload()) {
            return Resolution.Rejected.of(RejectReason.UNSUPPORTED_CRITICAL_HEADER);
        }

        KeySet keySet = provider.keys.current();
        if (keySet == null) {
            keyMissing(provider, pending);
            return Resolution.Rejected.of(RejectReason.NO_KEY_SOURCE);
        }
        String kid = header.getKeyID();
        Attempt attempt = new Attempt();
        boolean kidUnknown = false;
        if (kid == null) {
            tryKeys(jwt, algorithm, keySet.all(), attempt);
        } else {
            List<VerifyingKey> named = keySet.withKid(kid);
            kidUnknown = named.isEmpty();
            tryKeys(jwt, algorithm, named, attempt);
            if (attempt.verifiedBy == null) {
                tryKeys(jwt, algorithm, keySet.withoutKid(), attempt);
            }
        }
        VerifyingKey key = attempt.verifiedBy;
        if (key == null) {
            if (kidUnknown) {
                keyMissing(provider, pending);
                return Resolution.Rejected.of(RejectReason.UNKNOWN_KID);
            }
            return Resolution.Rejected.of(attempt.candidates == 0 ? RejectReason.NO_SUITABLE_KEY
                    : RejectReason.BAD_SIGNATURE);
        }

        if (!provider.acceptsType(header.getType())) {
            return Resolution.Rejected.of(RejectReason.TOKEN_TYPE_NOT_ALLOWED);
        }
        Duration skew = provider.clockSkew;
        Date exp = claims.getExpirationTime();
        if (exp == null && provider.requireExp) {
            return Resolution.Rejected.of(RejectReason.TOKEN_MISSING_EXP);
        }
        Instant expiresAt = exp == null ? null : exp.toInstant();
        if (expiresAt != null && !now.isBefore(expiresAt.plus(skew))) {
            return Resolution.Rejected.of(RejectReason.TOKEN_EXPIRED);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(skew).isBefore(nbf.toInstant())) {
            return Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID);
        }
        Date iat = claims.getIssueTime();
        if (iat != null && now.plus(skew).isBefore(iat.toInstant())) {
            return Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID);
        }
        if (!provider.audiences.isEmpty() && !containsAny(claims.getAudience(), provider.audiences)) {
            return Resolution.Rejected.of(RejectReason.AUDIENCE_MISMATCH);
        }
        Map<String, Object> claimMap = ClaimValues.immutableCopy(claims.getClaims());
        String subject = subject(provider.subjectClaim.resolve(claimMap));
        if (subject == null) {
            return Resolution.Rejected.of(RejectReason.MISSING_SUBJECT);
        }
        Set<String> roles = ClaimValues.roles(provider.rolesClaim.resolve(claimMap));
        Resolution.Resolved result =
                new Resolution.Resolved(new Identity(subject, roles, claimMap, IdentitySource.JWT, expiresAt));

        Instant validUntil = expiresAt != null ? expiresAt : now.plus(NO_EXP_CACHE_TTL);
        if (verified != null && cacheKey != null && now.isBefore(validUntil)) {
            verified.put(cacheKey, new CachedIdentity(result, provider, keySet, key, validUntil,
                    Duration.between(now, validUntil), Arrays.copyOf(scratch.bytes, scratch.signatureStart - 1)));
        }
        return result;
    }

    private void tryKeys(SignedJWT jwt, JWSAlgorithm algorithm, List<VerifyingKey> keys, Attempt attempt) {
        for (VerifyingKey key : keys) {
            if (!key.fits(algorithm)) {
                continue;
            }
            attempt.candidates++;
            verifications.increment();
            try {
                if (jwt.verify(key.verifier())) {
                    attempt.verifiedBy = key;
                    return;
                }
            } catch (JOSEException | RuntimeException e) {
                // A signature the verifier cannot even process (wrong length, bad encoding) is a bad signature.
            }
        }
    }

    private @Nullable JwtProvider provider(@Nullable String issuer) {
        if (issuer != null) {
            JwtProvider named = byIssuer.get(issuer);
            if (named != null) {
                return named;
            }
        }
        return withoutIssuer;
    }

    private static void keyMissing(JwtProvider provider, @Nullable Pending pending) {
        CompletableFuture<Void> fetch = provider.keys.keyMissing();
        if (pending != null) {
            pending.fetch = fetch;
        }
    }

    private Resolution count(Resolution resolution) {
        if (resolution instanceof Resolution.Rejected rejection) {
            rejected[rejection.reason().ordinal()].increment();
        } else if (resolution instanceof Resolution.Resolved) {
            resolved.increment();
        }
        return resolution;
    }

    private KeyProvider load(int index, JwtProviderSettings settings, @Nullable JwtIdentityResolver previous)
            throws KeySourceException {
        KeySource source = settings.keySource();
        String key = source.configKey();
        Set<JWSAlgorithm> algorithms = JwtProvider.jws(settings.algorithms());
        String label = "";
        try {
            if (source instanceof KeySource.JwksFile file) {
                label = key + " \"" + file.path() + "\" ";
                String json = read(index, key, file.path());
                return new KeyProvider.Static(new KeySet(1, KeyLoader.fromJwks(json, algorithms)), clock.instant());
            }
            if (source instanceof KeySource.PublicKeyFile pem) {
                label = key + " \"" + pem.path() + "\" ";
                String text = read(index, key, pem.path());
                return new KeyProvider.Static(new KeySet(1, List.of(KeyLoader.fromPem(text, algorithms))),
                        clock.instant());
            }
            if (source instanceof KeySource.SecretEnv env) {
                label = key + " \"" + env.name() + "\" ";
                String secret = options.environment().apply(env.name());
                if (secret == null || secret.isEmpty()) {
                    throw new KeySourceException(index, key, label
                            + "is not set (expected: an environment variable holding the HMAC secret)");
                }
                VerifyingKey hmac = KeyLoader.fromSecret(secret.getBytes(StandardCharsets.UTF_8),
                        settings.algorithms());
                return new KeyProvider.Static(new KeySet(1, List.of(hmac)), clock.instant());
            }
            KeySource.JwksUrl url = (KeySource.JwksUrl) source;
            JwksHttp client = http;
            if (client == null) {
                throw new IllegalStateException("no HTTP client for a jwks_url provider");
            }
            return new RemoteJwks(url.uri(), algorithms, client, options, settings.jwksRefresh(),
                    previousDocument(previous, url));
        } catch (KeyLoader.InvalidKeysException e) {
            throw new KeySourceException(index, key, label + e.getMessage());
        }
    }

    private static @Nullable String previousDocument(@Nullable JwtIdentityResolver previous, KeySource.JwksUrl url) {
        if (previous == null) {
            return null;
        }
        for (JwtProvider provider : previous.providers) {
            if (url.equals(provider.settings.keySource())) {
                String document = provider.keys.document();
                if (document != null) {
                    return document;
                }
            }
        }
        return null;
    }

    private static String read(int index, String key, Path path) throws KeySourceException {
        try {
            if (Files.size(path) > JwksHttp.MAX_DOCUMENT_BYTES) {
                throw new KeySourceException(index, key, key + " \"" + path + "\" is larger than "
                        + JwksHttp.MAX_DOCUMENT_BYTES + " bytes (expected: a key file)");
            }
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KeySourceException(index, key, key + " \"" + path + "\" cannot be read ("
                    + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static void checkIssuers(List<JwtProviderSettings> settings) {
        if (settings.isEmpty()) {
            throw new IllegalArgumentException("[] is not a valid provider list (expected: at least one provider)");
        }
        Map<String, Integer> seen = new HashMap<>();
        int withoutIssuer = -1;
        for (int i = 0; i < settings.size(); i++) {
            String issuer = settings.get(i).issuer();
            if (issuer == null) {
                if (withoutIssuer >= 0) {
                    throw new IllegalArgumentException("providers " + withoutIssuer + " and " + i + " both have no"
                            + " issuer (expected: at most one provider without issuer; the token's iss picks the"
                            + " provider)");
                }
                withoutIssuer = i;
            } else {
                Integer first = seen.putIfAbsent(issuer, i);
                if (first != null) {
                    throw new IllegalArgumentException("\"" + issuer + "\" is the issuer of providers " + first
                            + " and " + i + " (expected: one provider per issuer)");
                }
            }
        }
    }

    /** Three dot-separated base64url parts, the first two non-empty (an unsigned token has an empty third). */

    /** True when the header names {@code alg: none} in any case, which nimbus refuses to parse as a JWS. */
    private static boolean declaresNone(String token) {
        try {
            String header = new Base64URL(token.substring(0, token.indexOf('.'))).decodeToString();
            return "none".equalsIgnoreCase(JSONObjectUtils.getString(JSONObjectUtils.parse(header), "alg"));
        } catch (ParseException | RuntimeException e) {
            return false;
        }
    }

    private static boolean containsAny(List<String> audience, Set<String> accepted) {
        for (String value : audience) {
            if (accepted.contains(value)) {
                return true;
            }
        }
        return false;
    }

    private static @Nullable String subject(@Nullable Object value) {
        String text = value instanceof String || value instanceof Number ? ClaimValues.scalarText(value) : null;
        return text == null || text.isBlank() ? null : text;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }

    /** The fetch a {@link #verifyAsync} caller may wait for; set by the first verification. */
    private static final class Pending {
        @Nullable CompletableFuture<Void> fetch;
    }

    /** What trying the candidate keys found. */
    private static final class Attempt {
        int candidates;
        @Nullable VerifyingKey verifiedBy;
    }

    /**
     * The SHA-256 of a token's signature part: the cache key. The entry keeps the signing input
     * (header and payload, which are not secret: anyone holding the token reads them) and a hit must
     * match it exactly, so a hit needs the very token that was verified, while the cache keeps no
     * credential (the signature) and hashes about half of the token's bytes.
     */
    private record TokenKey(long a, long b, long c, long d) {}

    /**
     * Per-thread buffers for the cache-hit path, which runs for nearly every request: the syntax scan
     * copies the (ASCII) token into a reused byte array that is then hashed, so a hit allocates only
     * its key.
     */
    private static final class Scratch {
        final MessageDigest sha256;
        final byte[] bytes = new byte[MAX_TOKEN_LENGTH];
        final byte[] hash = new byte[32];

        Scratch() {
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is required of every JDK", e);
            }
        }

        /** Where the signature part of the last token copied starts. */
        int signatureStart;

        /** Copies a compact JWS (three base64url parts) into {@link #bytes}; its length, or -1. */
        @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): a plain copy of Latin-1 text
        int copyIfCompactJws(String token) {
            int dots = 0;
            int partStart = 0;
            int n = token.length();
            byte[] out = bytes;
            // Copies the low byte of each char; a char above 0xFF could alias a valid byte, so the scan
            // below rejects every byte that is not base64url or '.', and the copy is checked against
            // the string only for non-Latin-1 input, which String.getBytes cannot represent.
            token.getBytes(0, n, out, 0);
            for (int i = 0; i < n; i++) {
                int c = out[i];
                if (c < 0 || !BASE64URL_OR_DOT[c] || token.charAt(i) != c) {
                    return -1;
                }
                if (c == '.') {
                    if (i == partStart || ++dots > 2) {
                        return -1;
                    }
                    partStart = i + 1;
                }
            }
            // an empty third part (no signature) is left to the parser, which tells alg none apart
            signatureStart = partStart;
            return dots == 2 ? n : -1;
        }

        private static final boolean[] BASE64URL_OR_DOT = new boolean[128];

        static {
            for (char c = 'A'; c <= 'Z'; c++) {
                BASE64URL_OR_DOT[c] = true;
                BASE64URL_OR_DOT[Character.toLowerCase(c)] = true;
            }
            for (char c = '0'; c <= '9'; c++) {
                BASE64URL_OR_DOT[c] = true;
            }
            BASE64URL_OR_DOT['-'] = true;
            BASE64URL_OR_DOT['_'] = true;
            BASE64URL_OR_DOT['.'] = true;
        }

        TokenKey digestSignature(int length) {
            sha256.update(bytes, signatureStart, length - signatureStart);
            try {
                sha256.digest(hash, 0, hash.length);
            } catch (java.security.DigestException e) {
                throw new IllegalStateException("SHA-256 digest of 32 bytes", e);
            }
            return new TokenKey(longAt(0), longAt(8), longAt(16), longAt(24));
        }

        private long longAt(int offset) {
            long value = 0;
            for (int i = 0; i < 8; i++) {
                value = (value << 8) | (hash[offset + i] & 0xFF);
            }
            return value;
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** A verified token's outcome and what its validity depends on. */
    private record CachedIdentity(Resolution.Resolved resolution, JwtProvider provider, KeySet keySet,
            VerifyingKey key, Instant validUntil, Duration ttl, byte[] signingInput) {

        /** True when {@code token} (ASCII; its signature starts at {@code signatureStart}) has this entry's signing input. */
        boolean signs(byte[] token, int signatureStart) {
            int n = signingInput.length;
            return signatureStart == n + 1 && Arrays.equals(token, 0, n, signingInput, 0, n);
        }

        boolean isValid(Instant now) {
            if (!now.isBefore(validUntil)) {
                return false;
            }
            KeySet current = provider.keys.current();
            return current == keySet || (current != null && current.contains(key));
        }
    }
}
