package dev.portcullis.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.core.geo.MmdbWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the files the proxy benchmark ({@code bench/run.sh}) serves with: two gateway configs (no rules; the full
 * policy of issue 10 — RS256 JWT on every request, 1,000 CIDRs, GeoIP, a role rule), the RSA key as a JWKS file, a
 * handful of signed tokens, the client addresses the load generator forwards, and a GeoIP country database.
 *
 * <p>Run: {@code java -cp gateway-bench/target/benchmarks.jar dev.portcullis.bench.ProxyBenchFixtures DIR
 * UPSTREAM_PORT NO_RULES_PORT NO_RULES_ADMIN FULL_PORT FULL_ADMIN}.
 */
public final class ProxyBenchFixtures {

    private static final int TOKENS = 8;
    private static final int CIDRS = 1_000;
    private static final String ISSUER = "https://auth.bench.example/";
    private static final String AUDIENCE = "bench-api";

    private ProxyBenchFixtures() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: ProxyBenchFixtures DIR UPSTREAM_PORT NO_RULES_PORT NO_RULES_ADMIN FULL_PORT FULL_ADMIN");
            System.exit(2);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        int upstream = Integer.parseInt(args[1]);
        SplittableRandom random = new SplittableRandom(10);

        RSAKey key = new RSAKeyGenerator(2048).keyID("bench-1").generate();
        write(dir.resolve("jwks.json"), new JWKSet(key.toPublicJWK()).toString());
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < TOKENS; i++) {
            tokens.add(token(key, "user-" + i, i % 2 == 0 ? List.of("reader") : List.of("reader", "writer")));
        }
        write(dir.resolve("tokens.txt"), String.join("\n", tokens) + "\n");

        List<String> clients = writeGeoDatabase(dir.resolve("country.mmdb"));
        write(dir.resolve("clients.txt"), String.join("\n", clients) + "\n");

        write(dir.resolve("no-rules.yaml"), common(args[2], args[3], upstream) + "default: allow\n");
        write(dir.resolve("full.yaml"), common(args[4], args[5], upstream) + fullPolicy(random));
    }

    private static String common(String port, String adminPort, int upstream) {
        return "listen: \"127.0.0.1:" + port + "\"\n"
                + "admin:\n  listen: \"127.0.0.1:" + adminPort + "\"\n"
                + "upstream:\n  url: \"http://127.0.0.1:" + upstream + "\"\n";
    }

    private static String fullPolicy(SplittableRandom random) {
        StringBuilder cidrs = new StringBuilder();
        for (int i = 0; i < CIDRS; i++) {
            if (i > 0) {
                cidrs.append(", ");
            }
            if (i % 4 == 3) {
                cidrs.append(String.format("\"2001:db8:%x:%x::/64\"", random.nextInt(0x10000), random.nextInt(0x10000)));
            } else {
                // 198.18.0.0/15 (benchmarking space): never a client address of the load generator
                cidrs.append("\"198.").append(18 + random.nextInt(2)).append('.').append(random.nextInt(256))
                        .append('.').append(random.nextInt(64) * 4).append("/30\"");
            }
        }
        return "clients:\n  trusted_proxies: [\"127.0.0.1/32\"]\n"
                + "geoip:\n  database: \"country.mmdb\"\n"
                + "identity:\n  jwt:\n"
                + "    issuer: \"" + ISSUER + "\"\n"
                + "    audience: [\"" + AUDIENCE + "\"]\n"
                + "    algorithms: [RS256]\n"
                + "    jwks_file: \"jwks.json\"\n"
                + "default: deny\n"
                + "rules:\n"
                + "  - name: block-networks\n"
                + "    match: { ip: [" + cidrs + "] }\n"
                + "    action: deny\n"
                + "  - name: embargo\n"
                + "    match: { countries: [KP, IR] }\n"
                + "    action: deny\n"
                + "  - name: readers\n"
                + "    match: { paths: [\"/**\"], methods: [GET, HEAD] }\n"
                + "    require: { roles: [reader] }\n";
    }

    private static String token(RSAKey key, String subject, List<String> roles) throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject(subject)
                .claim("roles", roles)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(7, ChronoUnit.DAYS)))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
                .type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    /** A country database of public /24s; returns one address in each of a few of them (not embargoed). */
    private static List<String> writeGeoDatabase(Path file) {
        Map<String, String> countries = new LinkedHashMap<>();
        String[] codes = {"GB", "DE", "FR", "US", "JP", "BR", "IN", "KP", "IR", "NL"};
        List<String> clients = new ArrayList<>();
        for (int a = 1; a <= 200; a++) {
            if (a == 10 || a == 127 || a == 100 || a == 172 || a == 192 || a == 198) {
                continue;
            }
            for (int b = 0; b < 25; b++) {
                String code = codes[(a + b) % codes.length];
                countries.put(a + "." + b + ".0.0/16", code);
                if (clients.size() < 16 && b == 3 && !"KP".equals(code) && !"IR".equals(code)) {
                    clients.add(a + "." + b + ".7.9");
                }
            }
        }
        MmdbWriter.countries(countries).write(file);
        return clients;
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
