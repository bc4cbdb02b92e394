package dev.portcullis.core.identity;

import static dev.portcullis.core.identity.TestTokens.ISSUER;
import static dev.portcullis.core.identity.TestTokens.NOW;
import static dev.portcullis.core.identity.TestTokens.claims;
import static dev.portcullis.core.identity.TestTokens.sign;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.core.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifiedTokenCacheTest {

    static final RSAKey KEY = TestTokens.rsa("k1");
    static ScheduledExecutorService scheduler;

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(NOW);
    JwtIdentityResolver resolver;

    @BeforeAll
    static void startScheduler() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
    }

    @AfterAll
    static void stopScheduler() {
        scheduler.shutdownNow();
    }

    @AfterEach
    void close() {
        if (resolver != null) {
            resolver.close();
        }
    }

    JwtIdentityResolver resolver(int cacheSize) throws Exception {
        Path file = dir.resolve("jwks.json");
        Files.writeString(file, TestTokens.jwks(KEY));
        JwtProviderSettings settings =
                JwtProviderSettings.of(ISSUER, new KeySource.JwksFile(file)).withClockSkew(Duration.ZERO);
        resolver = new JwtIdentityResolver(List.of(settings), clock, scheduler, cacheSize);
        return resolver;
    }

    @Test
    void repeatedTokenSkipsSignatureVerification() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());

        Resolution first = resolver.verify(token);
        Resolution second = resolver.verify(token);

        assertThat(first).isInstanceOf(Resolution.Resolved.class);
        assertThat(second).isSameAs(first);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);
        assertThat(resolver.cacheHits()).isEqualTo(1);
        assertThat(resolver.resolvedCount()).isEqualTo(2);
    }

    @Test
    void entryExpiresAtTheTokensExp() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, c -> c.expirationTime(Date.from(NOW.plusSeconds(60))));
        resolver.verify(token);

        clock.advance(Duration.ofSeconds(59));
        assertThat(resolver.verify(token)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_EXPIRED));
        assertThat(resolver.signatureVerifications()).isEqualTo(2);
    }

    @Test
    void tokenWithoutExpIsVerifiedAgainAfterFiveMinutes() throws Exception {
        resolver = new JwtIdentityResolver(List.of(JwtProviderSettings.of(ISSUER,
                        new KeySource.JwksFile(Files.writeString(dir.resolve("jwks.json"), TestTokens.jwks(KEY))))
                .withClockSkew(Duration.ZERO).withRequireExp(false)), clock, scheduler, 100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().expirationTime(null).build());
        resolver.verify(token);

        clock.advance(JwtIdentityResolver.NO_EXP_CACHE_TTL.minusSeconds(1));
        resolver.verify(token);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);

        clock.advance(Duration.ofSeconds(1));
        assertThat(resolver.verify(token)).isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.signatureVerifications()).isEqualTo(2);
    }

    @Test
    void invalidTokensAreNeverCached() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());
        // a character inside the signature, where every base64url character is canonical (the last one carries
        // unused bits, so changing it could make the token malformed instead of forged)
        int at = token.length() - 3;
        String tampered = token.substring(0, at) + (token.charAt(at) == 'A' ? 'B' : 'A') + token.substring(at + 1);
        String withoutSubject = sign(KEY, JWSAlgorithm.RS256, c -> c.subject(null));

        for (int i = 0; i < 3; i++) {
            assertThat(resolver.verify(tampered)).isEqualTo(Resolution.Rejected.of(RejectReason.BAD_SIGNATURE));
            assertThat(resolver.verify(withoutSubject))
                    .isEqualTo(Resolution.Rejected.of(RejectReason.MISSING_SUBJECT));
        }

        assertThat(resolver.signatureVerifications()).isEqualTo(6);
        assertThat(resolver.cacheHits()).isZero();
    }

    @Test
    void notYetValidTokenIsNotServedFromCacheBeforeItIsValid() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, c -> c.notBeforeTime(Date.from(NOW.plusSeconds(10))));

        assertThat(resolver.verify(token)).isEqualTo(Resolution.Rejected.of(RejectReason.TOKEN_NOT_YET_VALID));
        clock.advance(Duration.ofSeconds(10));
        assertThat(resolver.verify(token)).isInstanceOf(Resolution.Resolved.class);
    }

    @Test
    void zeroSizeDisablesTheCache() throws Exception {
        resolver(0);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());

        resolver.verify(token);
        resolver.verify(token);

        assertThat(resolver.signatureVerifications()).isEqualTo(2);
        assertThat(resolver.cacheHits()).isZero();
    }

    @Test
    void cacheIsBounded() throws Exception {
        resolver(10);
        for (int i = 0; i < 100; i++) {
            resolver.verify(sign(KEY, JWSAlgorithm.RS256, claims().jwtID("t" + i).build()));
        }
        String first = sign(KEY, JWSAlgorithm.RS256, claims().jwtID("t0").build());
        long before = resolver.signatureVerifications();

        resolver.verify(first);

        assertThat(before).isEqualTo(100);
        assertThat(resolver.signatureVerifications()).isEqualTo(101);
    }

    /**
     * The cache is weighed in bytes, not tokens: ten tokens of 7 KB do not fit the room of ten average ones, so the
     * first is verified again (a count bound let 10,000 such tokens fill a 64 MiB heap).
     */
    @Test
    void largeTokensTakeTheRoomOfManyAverageOnes() throws Exception {
        resolver(10); // 40 KiB: room for one such token (about 21 KB by weight)
        String pad = "p".repeat(5_000); // under the 8 KiB token limit once encoded
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            tokens.add(sign(KEY, JWSAlgorithm.RS256, claims().jwtID("big" + i).claim("pad", pad).build()));
        }
        for (String token : tokens) {
            resolver.verify(token);
        }

        for (String token : tokens) {
            resolver.verify(token);
        }

        assertThat(resolver.cacheHits()).as("of ten tokens verified again").isLessThanOrEqualTo(1);
        assertThat(resolver.signatureVerifications()).isGreaterThanOrEqualTo(19);
    }

    @Test
    void theBudgetIsTheCacheSizeInAverageTokensAndAtMostAnEighthOfTheHeap() {
        assertThat(VerifiedTokenCache.budget(10_000, 64L << 30)).isEqualTo(10_000L * 4096);
        assertThat(VerifiedTokenCache.budget(10_000, 64L << 20)).isEqualTo(8L << 20);
        assertThat(VerifiedTokenCache.weight(1_000)).isEqualTo(3_512);
    }

    @Test
    void headerValuesAreReadInPlaceAndHitTheCacheOfTheSameToken() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());

        Resolution first = resolver.resolve("Bearer " + token);
        Resolution spaced = resolver.resolve(" \tbearer \t" + token + "\t ");
        Resolution bare = resolver.verify(token);

        assertThat(first).isInstanceOf(Resolution.Resolved.class);
        assertThat(spaced).isSameAs(first);
        assertThat(bare).isSameAs(first);
        assertThat(resolver.signatureVerifications()).isEqualTo(1);
        assertThat(resolver.cacheHits()).isEqualTo(2);
    }

    @Test
    void onlyTheTokensOwnCharactersAreScanned() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());
        resolver.resolve("Bearer " + token);

        // a cached token followed by anything but whitespace is another (malformed) token, never a hit
        assertThat(resolver.resolve("Bearer " + token + "x."))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        assertThat(resolver.resolve("Bearer " + token + " extra"))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        // 342 signature characters less one leave a base64url group of one character: no encoding ends so
        assertThat(resolver.resolve("Bearer " + token.substring(0, token.length() - 1)))
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        assertThat(resolver.resolve("Bearer x" + token))
                .isInstanceOf(Resolution.Rejected.class);
        assertThat(resolver.cacheHits()).isZero();
    }

    @Test
    void aTokenIsReadOnlyInItsOneBase64urlSpelling() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());
        assertThat(resolver.resolve("Bearer " + token)).isInstanceOf(Resolution.Resolved.class);
        // an RS256 signature is 256 bytes: 342 characters, whose last carries 2 bits and 4 unused ones
        char last = token.charAt(token.length() - 1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char sameBytes = alphabet.charAt(alphabet.indexOf(last) | 0b0101);
        String twin = token.substring(0, token.length() - 1) + sameBytes;
        assertThat(twin).isNotEqualTo(token);
        assertThat(resolver.resolve("Bearer " + twin)).as("same signature bytes, another string")
                .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        assertThat(resolver.cacheHits()).isZero();
    }

    @Test
    void aCharacterAboveLatin1WhoseLowByteIsTheTokensIsNeverAHit() throws Exception {
        resolver(100);
        String token = sign(KEY, JWSAlgorithm.RS256, claims().build());
        assertThat(resolver.resolve("Bearer " + token)).isInstanceOf(Resolution.Resolved.class);
        // U+0141 narrowed to a byte is 0x41 'A': a copy that kept low bytes would see the cached token
        for (int i : new int[] {0, token.indexOf('.') + 3, token.length() - 1}) {
            String alias = token.substring(0, i) + (char) (0x100 | token.charAt(i)) + token.substring(i + 1);
            assertThat(resolver.resolve("Bearer " + alias)).as("aliased at %d", i)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
            assertThat(resolver.verify(alias)).as("aliased at %d", i)
                    .isEqualTo(Resolution.Rejected.of(RejectReason.MALFORMED_TOKEN));
        }
        assertThat(resolver.cacheHits()).isZero();
        assertThat(resolver.resolve("Bearer " + token)).as("the token itself still hits")
                .isInstanceOf(Resolution.Resolved.class);
        assertThat(resolver.cacheHits()).isEqualTo(1);
    }

    @Test
    void aMissIsScannedThenCachedUnderItsOwnSignature() throws Exception {
        resolver(100);
        String one = sign(KEY, JWSAlgorithm.RS256, claims().subject("one").build());
        String two = sign(KEY, JWSAlgorithm.RS256, claims().subject("two").build());
        Resolution first = resolver.verify(one);
        Resolution second = resolver.verify(two);
        assertThat(resolver.verify(one)).isSameAs(first);
        assertThat(resolver.verify(two)).isSameAs(second);
        assertThat(first).isNotSameAs(second);
        assertThat(resolver.signatureVerifications()).isEqualTo(2);
        assertThat(resolver.cacheHits()).isEqualTo(2);
    }
}
