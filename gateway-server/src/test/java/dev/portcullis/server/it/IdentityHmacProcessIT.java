package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HS256 with {@code secret_env} end to end: the secret can only come from the process environment,
 * so the packaged gateway runs as a child process with the variable set.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IdentityHmacProcessIT {
    private static final Pattern LISTENING = Pattern.compile("listening on \\\\?/127\\.0\\.0\\.1:(\\d+)");
    private static final String SECRET = "a-test-secret-of-at-least-thirty-two-bytes!";

    @Test
    void hs256TokensSignedWithTheEnvironmentSecretAreAcceptedAndOthersRejected(@TempDir Path dir) throws Exception {
        List<String> subjects = new CopyOnWriteArrayList<>();
        HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/", exchange -> {
            subjects.add(String.valueOf(exchange.getRequestHeaders().getFirst("X-Auth-Subject")));
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
        Path config = dir.resolve("policy.yaml");
        Files.writeString(config, String.join("\n",
                "listen: \"127.0.0.1:0\"",
                "admin:",
                "  listen: \"127.0.0.1:0\"",
                "upstream:",
                "  url: \"http://127.0.0.1:" + upstream.getAddress().getPort() + "\"",
                "identity:",
                "  jwt:",
                "    issuer: \"https://auth.test/\"",
                "    algorithms: [HS256]",
                "    secret_env: \"PORTCULLIS_IT_HMAC_SECRET\"",
                "default: deny",
                "rules:",
                "  - name: api",
                "    match: { paths: [\"/**\"] }",
                "    require: { authenticated: true }",
                ""));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(
                java, "-jar", Path.of("target", "portcullis.jar").toString(), "run", "-c", config.toString())
                .redirectErrorStream(true);
        builder.environment().put("PORTCULLIS_IT_HMAC_SECRET", SECRET);
        Process process = builder.start();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        try {
            URI uri = URI.create("http://127.0.0.1:" + port.get(20, TimeUnit.SECONDS) + "/orders");
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

            HttpResponse<String> good = client.send(request(uri, token(SECRET)), HttpResponse.BodyHandlers.ofString());
            assertThat(good.statusCode()).as("output: %s", lines).isEqualTo(200);
            assertThat(subjects).containsExactly("alice");

            HttpResponse<String> forged = client.send(
                    request(uri, token("another-secret-of-at-least-thirty-two-bytes")),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(forged.statusCode()).isEqualTo(401);
            assertThat(forged.headers().firstValue("WWW-Authenticate"))
                    .contains("Bearer realm=\"portcullis\", error=\"invalid_token\"");
            assertThat(subjects).hasSize(1);
        } finally {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            upstream.stop(0);
        }
    }

    private static HttpRequest request(URI uri, String token) {
        return HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + token)
                .build();
    }

    private static String token(String secret) throws Exception {
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder()
                .issuer("https://auth.test/")
                .subject("alice")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .build());
        jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
