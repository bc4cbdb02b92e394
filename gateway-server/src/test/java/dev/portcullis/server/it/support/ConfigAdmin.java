package dev.portcullis.server.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.function.Predicate;

/**
 * The admin API's reload side as a test sees it: {@code GET /config}, {@code POST /reload}, polling the live
 * version with a deadline, and writing config files the ways operators and Kubernetes do.
 */
public final class ConfigAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL = Duration.ofMillis(20);

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final URI base;

    /** The admin API on 127.0.0.1:{@code adminPort}. */
    public ConfigAdmin(int adminPort) {
        this.base = URI.create("http://127.0.0.1:" + adminPort);
    }

    /** A status and its parsed JSON body. */
    public record Answer(int status, JsonNode body) {}

    /** {@code GET /config}, which must answer 200. */
    public JsonNode config() throws IOException, InterruptedException {
        Answer answer = call("GET", "/config");
        if (answer.status() != 200) {
            throw new AssertionError("GET /config answered " + answer.status() + ": " + answer.body());
        }
        return answer.body();
    }

    /** {@code POST /reload}; it answers once the reload it triggered has finished. */
    public Answer reload() throws IOException, InterruptedException {
        return call("POST", "/reload");
    }

    /** Polls {@code GET /config} until its {@code version} is {@code version}; fails after {@code timeout}. */
    public JsonNode awaitVersion(String version, Duration timeout) throws IOException, InterruptedException {
        return await(c -> version.equals(c.path("version").asText()), timeout, "version " + version);
    }

    /** Polls {@code GET /config} until {@code condition} holds; fails after {@code timeout} with the last answer. */
    public JsonNode await(Predicate<JsonNode> condition, Duration timeout, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode last;
        while (true) {
            last = config();
            if (condition.test(last)) {
                return last;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("GET /config did not show " + what + " within " + timeout + "; last: " + last);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private Answer call(String method, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), JSON.readTree(response.body()));
    }

    /** The {@code version} the gateway reports for a file holding {@code yaml}: {@code sha256:<hex>} of its bytes. */
    public static String version(String yaml) {
        try {
            return "sha256:" + HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(yaml.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code text} to a temporary file beside {@code file} and renames it over {@code file} atomically. */
    public static void replaceAtomically(Path file, String text) throws IOException {
        Path temp = Files.createTempFile(file.toAbsolutePath().getParent(), ".tmp-", ".yaml");
        Files.writeString(temp, text, StandardCharsets.UTF_8);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
