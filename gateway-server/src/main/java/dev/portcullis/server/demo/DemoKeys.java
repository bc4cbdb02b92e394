package dev.portcullis.server.demo;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * The demo's token issuer: an ES256 (P-256) key pair made at start, its public key as a PEM file for the
 * gateway to verify with, and demo tokens signed with its private key.
 */
public final class DemoKeys {
    /** The {@code iss} of demo tokens; the bundled policy requires it. */
    public static final String ISSUER = "https://demo.portcullis.invalid/";
    /** The {@code aud} of demo tokens; the bundled policy requires it. */
    public static final String AUDIENCE = "demo-api";

    private final KeyPair pair;

    private DemoKeys(KeyPair pair) {
        this.pair = pair;
    }

    /** A new P-256 key pair. */
    public static DemoKeys generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return new DemoKeys(generator.generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no P-256 key pair generator in this JVM", e);
        }
    }

    /** Writes the public key as a PEM {@code PUBLIC KEY} (SPKI) file and returns it. */
    public Path writePublicKey(Path file) throws IOException {
        String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pair.getPublic().getEncoded());
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + base64 + "\n-----END PUBLIC KEY-----\n",
                StandardCharsets.US_ASCII);
        return file;
    }

    /** A token for {@code subject} with {@code roles}, valid from now for {@code lifetime} (negative: expired). */
    public String token(String subject, List<String> roles, Instant now, Duration lifetime) {
        Instant issued = lifetime.isNegative() ? now.plus(lifetime).minus(Duration.ofHours(1)) : now;
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject(subject)
                .claim("roles", roles)
                .issueTime(Date.from(issued))
                .expirationTime(Date.from(now.plus(lifetime)))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new ECDSASigner((ECPrivateKey) pair.getPrivate()));
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a demo token", e);
        }
        return jwt.serialize();
    }
}
