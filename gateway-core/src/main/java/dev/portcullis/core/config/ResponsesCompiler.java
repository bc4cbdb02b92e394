package dev.portcullis.core.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Compiles {@code responses} (SPEC 3): per gateway-made status, a body given inline or read from a file
 * (relative to the config's folder) now, at load time, and its content type ({@code application/json} by default).
 */
final class ResponsesCompiler {
    /** Larger bodies are a config error: an error page is not a download. */
    static final int MAX_BODY_BYTES = 256 * 1024;
    static final String DEFAULT_CONTENT_TYPE = "application/json";

    private ResponsesCompiler() {}

    static CustomResponses compile(GatewayConfig config, Path baseDir, Problems problems) {
        Map<Integer, CustomResponses.Body> bodies = new LinkedHashMap<>();
        for (ResponseConfig response : config.responses()) {
            String path = KeyPaths.key("responses", Integer.toString(response.status()));
            if (!CustomResponses.isGatewayStatus(response.status())) {
                problems.add(path, "\"" + response.status() + "\" is not a status the gateway answers itself (expected one of: "
                        + Arrays.stream(CustomResponses.GATEWAY_STATUSES).mapToObj(Integer::toString)
                                .collect(Collectors.joining(", ")) + ")");
                continue;
            }
            byte[] body = body(response, path, baseDir, problems);
            if (body == null) {
                continue;
            }
            String contentType = response.contentType() == null ? DEFAULT_CONTENT_TYPE : response.contentType();
            if (contentType.isBlank() || !isVisibleAscii(contentType)) {
                problems.add(KeyPaths.key(path, "content_type"), ConfigValues.quote(contentType)
                        + " is not a valid content type (expected: e.g. text/html; charset=utf-8)");
                continue;
            }
            bodies.put(response.status(), new CustomResponses.Body(contentType, body));
        }
        return bodies.isEmpty() ? CustomResponses.NONE : new CustomResponses(bodies);
    }

    private static byte @org.jspecify.annotations.Nullable [] body(ResponseConfig response, String path, Path baseDir, Problems problems) {
        if ((response.body() == null) == (response.bodyFile() == null)) {
            problems.add(path, "exactly one of body and body_file is required (expected: e.g. { body: '...' })");
            return null;
        }
        if (response.body() != null) {
            byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
            if (bytes.length > MAX_BODY_BYTES) {
                problems.add(KeyPaths.key(path, "body"), "body of " + bytes.length + " bytes is too large (expected: at most "
                        + MAX_BODY_BYTES + " bytes)");
                return null;
            }
            return bytes;
        }
        String text = response.bodyFile();
        String filePath = KeyPaths.key(path, "body_file");
        Path file = baseDir.resolve(text).normalize();
        try {
            if (!Files.isRegularFile(file)) {
                problems.add(filePath, ConfigValues.quote(text) + " does not exist or is not a file (expected: a file; "
                        + "relative paths resolve against the config file's folder)");
                return null;
            }
            if (Files.size(file) > MAX_BODY_BYTES) {
                problems.add(filePath, ConfigValues.quote(text) + " is larger than " + MAX_BODY_BYTES
                        + " bytes (expected: an error page)");
                return null;
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            problems.add(filePath, ConfigValues.quote(text) + " cannot be read (" + e.getClass().getSimpleName() + ")");
            return null;
        }
    }

    private static boolean isVisibleAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }
}
