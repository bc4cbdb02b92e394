package dev.portcullis.server.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.ReloadOutcome;
import dev.portcullis.core.runtime.Reloader;
import dev.portcullis.core.runtime.SnapshotHolder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code GET /config} and {@code POST /reload} (SPEC 6): what config is live, the last rejected reload,
 * and reloads on request.
 */
final class ConfigEndpoint {
    /*
     * Bodies are built as Jackson trees from the node factory, not through an ObjectMapper: building a mapper
     * loads and initializes some 300 classes, which took about 0.2 s of the gateway's start on one core, before
     * its listeners were bound. JsonNode.toString() serializes with Jackson's own internal mapper, created on
     * the first answer instead.
     */
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** A status and a JSON body. */
    record Answer(int status, String body) {}

    private final SnapshotHolder snapshots;
    private final @Nullable Reloader reloader;

    ConfigEndpoint(SnapshotHolder snapshots, @Nullable Reloader reloader) {
        this.snapshots = snapshots;
        this.reloader = reloader;
    }

    /**
     * {@code GET /config}: {@code version}, {@code generation}, {@code loaded_at}, {@code rules}, {@code source},
     * {@code last_error} (the last rejected reload since this config was applied, or null) and {@code reloads}
     * (applied and rejected counts since start).
     */
    Answer status() {
        GatewaySnapshot snapshot = snapshots.current();
        if (snapshot == null) {
            return new Answer(503, "{\"error\":\"no config loaded\"}");
        }
        ObjectNode body = JSON.objectNode();
        body.put("version", snapshot.config().version());
        body.put("generation", snapshot.generation());
        body.put("loaded_at", snapshot.loadedAt().toString());
        body.put("rules", snapshot.config().policy().rules().size());
        body.put("source", snapshot.config().source());
        Reloader files = reloader;
        ReloadOutcome.Rejected last = files == null ? null : files.lastError();
        if (last == null) {
            body.putNull("last_error");
        } else {
            ObjectNode error = body.putObject("last_error");
            error.put("at", last.at().toString());
            error.put("trigger", last.trigger());
            error.put("error", last.error());
            problems(error.putArray("problems"), last.problems());
        }
        ObjectNode reloads = body.putObject("reloads");
        reloads.put("applied", files == null ? 0 : files.appliedCount());
        reloads.put("rejected", files == null ? 0 : files.rejectedCount());
        return new Answer(200, body.toString());
    }

    /**
     * {@code POST /reload}: 200 with the new {@code version} and {@code generation}, or 422 with {@code error} and
     * every problem (the old config keeps serving); 503 when the gateway has no config file to reload.
     */
    CompletableFuture<Answer> reload() {
        Reloader files = reloader;
        if (files == null) {
            return CompletableFuture.completedFuture(
                    new Answer(503, "{\"error\":\"this gateway was not started from a config file\"}"));
        }
        return files.reload("admin").thenApply(ConfigEndpoint::answer);
    }

    private static Answer answer(ReloadOutcome outcome) {
        ObjectNode body = JSON.objectNode();
        if (outcome instanceof ReloadOutcome.Applied applied) {
            body.put("version", applied.version());
            body.put("generation", applied.generation());
            problems(body.putArray("warnings"), applied.warnings());
            return new Answer(200, body.toString());
        }
        ReloadOutcome.Rejected rejected = (ReloadOutcome.Rejected) outcome;
        body.put("error", rejected.error());
        problems(body.putArray("problems"), rejected.problems());
        return new Answer(422, body.toString());
    }

    private static void problems(ArrayNode array, List<String> problems) {
        for (String problem : problems) {
            array.add(problem);
        }
    }
}
