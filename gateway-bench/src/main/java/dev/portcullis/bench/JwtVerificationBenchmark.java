package dev.portcullis.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.JwtProviderSettings;
import dev.portcullis.core.identity.KeySource;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.identity.SigningAlgorithm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JWT verification cost: a token verified from scratch (cache disabled) against a cache hit, for
 * RS256 (RSA 2048) and ES256 (P-256), and the whole identity step of a request carrying a repeated
 * token ({@code Authorization} header in, identity out).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class JwtVerificationBenchmark {
    @Param({"RS256", "ES256"})
    public String alg;

    private ScheduledExecutorService scheduler;
    private JwtIdentityResolver uncached;
    private JwtIdentityResolver cached;
    private String token;
    private String authorization;
    private Path dir;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        JWSSigner signer;
        JWKSet jwks;
        JWSAlgorithm algorithm = JWSAlgorithm.parse(alg);
        if (alg.startsWith("RS")) {
            RSAKey key = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
            signer = new RSASSASigner(key);
            jwks = new JWKSet(key.toPublicJWK());
        } else {
            ECKey key = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
            signer = new ECDSASigner(key);
            jwks = new JWKSet(key.toPublicJWK());
        }
        dir = Files.createTempDirectory("jwt-bench");
        Path jwksFile = dir.resolve("jwks.json");
        Files.writeString(jwksFile, jwks.toString());
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer("https://auth.example.com/")
                .audience("orders-api")
                .subject("alice")
                .claim("roles", List.of("admin", "reader"))
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)))
                .build();
        String kid = jwks.getKeys().get(0).getKeyID();
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(algorithm).keyID(kid).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(signer);
        token = jwt.serialize();
        authorization = "Bearer " + token;

        JwtProviderSettings settings = JwtProviderSettings.of("https://auth.example.com/", new KeySource.JwksFile(jwksFile))
                .withAudiences(List.of("orders-api"))
                .withAlgorithms(EnumSet.of(SigningAlgorithm.RS256, SigningAlgorithm.ES256));
        scheduler = Executors.newSingleThreadScheduledExecutor();
        uncached = new JwtIdentityResolver(List.of(settings), Clock.systemUTC(), scheduler, 0);
        cached = new JwtIdentityResolver(List.of(settings), Clock.systemUTC(), scheduler, 10_000);
        for (JwtIdentityResolver resolver : List.of(uncached, cached)) {
            if (!(resolver.verify(token) instanceof Resolution.Resolved)) {
                throw new IllegalStateException("benchmark token does not verify: " + resolver.verify(token));
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        uncached.close();
        cached.close();
        scheduler.shutdownNow();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    @Benchmark
    public Resolution verifyUncached() {
        return uncached.verify(token);
    }

    @Benchmark
    public Resolution verifyCacheHit() {
        return cached.verify(token);
    }

    @Benchmark
    public Resolution identityStepRepeatedToken() {
        return cached.resolve(authorization);
    }
}
