package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.ratelimit.RateLimitDefinition;
import dev.portcullis.core.ratelimit.SharedStoreSettings;
import java.io.Reader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The Compose and Kubernetes examples under docker/ parse, keep their promises (only the gateway's
 * port is reachable, the policy is mounted as a folder, probes hit the admin port) and carry
 * policies that load as {@code check} loads them.
 */
class DeploymentExamplesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path DOCKER = DockerImage.repoRoot().resolve("docker");

    @Test
    void composeExposesOnlyTheGatewayAndMountsACheckedPolicyFolder() throws Exception {
        JsonNode services = YAML.readTree(DOCKER.resolve("compose.yaml").toFile()).path("services");
        JsonNode app = services.path("app");
        JsonNode gateway = services.path("portcullis");

        assertThat(app.has("ports")).as("the app publishes no port").isFalse();
        assertThat(app.has("expose")).isFalse();
        assertThat(texts(gateway.path("ports"))).containsExactly("8080:8080");
        assertThat(gateway.path("build").path("context").asText()).isEqualTo("..");
        assertThat(gateway.path("init").asBoolean()).isTrue();
        assertThat(gateway.path("read_only").asBoolean()).isTrue();
        assertThat(texts(gateway.path("tmpfs"))).containsExactly("/tmp");

        List<String> volumes = texts(gateway.path("volumes"));
        assertThat(volumes).containsExactly("./sidecar:/etc/portcullis:ro");
        Path policy = DOCKER.resolve("sidecar").resolve("policy.yaml");
        assertThat(policy).isRegularFile();
        CompiledConfig config = ConfigLoader.load(policy);
        assertThat(config.listen().port()).isEqualTo(8080);
        assertThat(config.listen().host()).isEqualTo("0.0.0.0");
        assertThat(config.adminListen().host()).as("admin stays inside the container").isEqualTo("127.0.0.1");
        assertThat(config.upstream().host() + ":" + config.upstream().port()).isEqualTo("app:5678");
        assertThat(texts(app.path("command"))).contains("-listen=:5678");
    }

    @Test
    void sharedLimitsComposeRunsTwoHardenedReplicasOnOneRedisWithAPolicyThatLoads() throws Exception {
        JsonNode services = composeWithMergeKeys(DOCKER.resolve("compose.shared-limits.yaml")).path("services");
        assertThat(names(services)).containsExactlyInAnyOrder("redis", "app", "gateway-1", "gateway-2");
        JsonNode redis = services.path("redis");
        JsonNode app = services.path("app");
        assertThat(redis.has("ports") || redis.has("expose")).as("Redis publishes no port").isFalse();
        assertThat(app.has("ports") || app.has("expose")).as("the app publishes no port").isFalse();

        // both replicas mount the examples FOLDER and name the policy in it, as README tells users to
        JsonNode first = services.path("gateway-1");
        List<String> volumes = texts(first.path("volumes"));
        assertThat(volumes).as("gateway-1: one read-only folder at /etc/portcullis")
                .containsExactly("../config/examples:/etc/portcullis:ro");
        String containerPolicy = first.path("environment").path("PORTCULLIS_CONFIG").asText();
        assertThat(containerPolicy).as("PORTCULLIS_CONFIG names a file in the mounted folder")
                .matches("/etc/portcullis/[^/]+\\.yaml");
        Path policy = DOCKER.resolve("../config/examples")
                .resolve(containerPolicy.substring("/etc/portcullis/".length())).normalize();
        assertThat(policy).isEqualTo(DockerImage.repoRoot().resolve("config/examples/shared-rate-limits.yaml"))
                .isRegularFile();
        CompiledConfig config = ConfigLoader.load(policy);
        assertThat(config.adminListen().host() + ":" + config.adminListen().port())
                .as("admin only inside each container, where the image's HEALTHCHECK (PORTCULLIS_ADMIN_ADDR) reaches it")
                .isEqualTo("127.0.0.1:9901");
        SharedStoreSettings store = config.rateLimitStore();
        assertThat(store).as("the example's policy has a rate_limit_store").isNotNull();
        assertThat(store.host()).as("the store is the Compose service").isEqualTo("redis");
        assertThat(store.port()).isEqualTo(6379);
        assertThat(config.rateLimits()).extracting(RateLimitDefinition::scope)
                .contains(RateLimitDefinition.Scope.SHARED);
        assertThat(config.upstream().host()).isEqualTo("app");
        assertThat(texts(app.path("command"))).contains("-listen=:" + config.upstream().port());
        assertThat(config.listen().host()).isEqualTo("0.0.0.0");

        // the Redis password reaches both: requirepass, and the variable password_env names
        List<String> redisCommand = texts(redis.path("command"));
        String password = redisCommand.get(redisCommand.indexOf("--requirepass") + 1);

        List<String> published = new ArrayList<>();
        for (String name : List.of("gateway-1", "gateway-2")) {
            JsonNode gateway = services.path(name);
            assertThat(gateway.path("image").asText()).as(name).isEqualTo("portcullis:latest");
            assertThat(texts(gateway.path("volumes"))).as(name).isEqualTo(volumes);
            assertThat(gateway.path("environment").path("PORTCULLIS_CONFIG").asText()).as(name).isEqualTo(containerPolicy);
            assertThat(gateway.path("environment").has("PORTCULLIS_ADMIN_ADDR"))
                    .as(name + ": the HEALTHCHECK keeps the image's 127.0.0.1:9901").isFalse();
            assertThat(gateway.path("init").asBoolean()).as(name + ": init forwards SIGHUP and SIGTERM").isTrue();
            assertThat(gateway.path("read_only").asBoolean()).as(name).isTrue();
            assertThat(texts(gateway.path("tmpfs"))).as(name + ": a writable /tmp on a read-only root")
                    .contains("/tmp");
            assertThat(composeDuration(gateway.path("stop_grace_period").asText()))
                    .as(name + ": stop_grace_period lets the gateway drain (drain_timeout %s)", config.drainTimeout())
                    .isGreaterThan(config.drainTimeout());
            assertThat(gateway.path("environment").path(store.passwordEnv()).asText()).as(name + ": password_env")
                    .isEqualTo(password);
            assertThat(texts(gateway.path("depends_on"))).as(name).contains("redis", "app");
            assertThat(texts(gateway.path("networks"))).as(name + ": on the network of Redis and the app, and a public one")
                    .containsAll(texts(redis.path("networks"))).containsAll(texts(app.path("networks")))
                    .hasSize(texts(redis.path("networks")).size() + 1);
            List<String> ports = texts(gateway.path("ports"));
            assertThat(ports).as(name).hasSize(1);
            assertThat(ports.get(0)).as(name + ": publishes the policy's listener")
                    .endsWith(":" + config.listen().port());
            published.add(ports.get(0).substring(0, ports.get(0).indexOf(':')));
        }
        assertThat(published).as("each replica on its own host port").doesNotHaveDuplicates();

        JsonNode networks = composeWithMergeKeys(DOCKER.resolve("compose.shared-limits.yaml")).path("networks");
        for (String network : texts(redis.path("networks"))) {
            assertThat(networks.path(network).path("internal").asBoolean())
                    .as("Redis's and the app's network %s is internal", network).isTrue();
        }
        assertThat(texts(app.path("networks"))).isEqualTo(texts(redis.path("networks")));
    }

    @Test
    void kubernetesSidecarLoadsItsConfigMapPolicyAndProbesTheAdminPort(@TempDir Path dir) throws Exception {
        List<JsonNode> documents = documents(DOCKER.resolve("kubernetes").resolve("portcullis.yaml"));
        JsonNode configMap = kind(documents, "ConfigMap");
        JsonNode deployment = kind(documents, "Deployment");
        JsonNode service = kind(documents, "Service");

        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, configMap.path("data").path("policy.yaml").asText(), StandardCharsets.UTF_8);
        CompiledConfig config = ConfigLoader.load(policy);
        assertThat(config.watch()).as("ConfigMap updates reload through watch: true").isTrue();
        assertThat(config.listen().host()).isEqualTo("0.0.0.0");
        assertThat(config.adminListen().host()).as("the kubelet probes the pod IP").isEqualTo("0.0.0.0");

        JsonNode pod = deployment.path("spec").path("template").path("spec");
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        JsonNode gateway = container(pod, "portcullis");
        assertThat(gateway.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(containerPort(gateway, "http")).isEqualTo(config.listen().port());
        assertThat(containerPort(gateway, "admin")).isEqualTo(config.adminListen().port());
        assertThat(gateway.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readyz");
        assertThat(gateway.path("readinessProbe").path("httpGet").path("port").asText()).isEqualTo("admin");
        assertThat(gateway.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/healthz");
        assertThat(gateway.path("livenessProbe").path("httpGet").path("port").asText()).isEqualTo("admin");

        JsonNode mounts = gateway.path("volumeMounts");
        assertThat(volumeOf(pod, mount(mounts, "/etc/portcullis")).path("configMap").path("name").asText())
                .isEqualTo(configMap.path("metadata").path("name").asText());
        assertThat(volumeOf(pod, mount(mounts, "/tmp")).has("emptyDir")).isTrue();

        JsonNode app = container(pod, "app");
        assertThat(app.has("ports")).isFalse();
        assertThat(texts(app.path("args"))).contains("-listen=" + config.upstream().host() + ":" + config.upstream().port());

        JsonNode ports = service.path("spec").path("ports");
        assertThat(ports.size()).as("the Service targets one port").isEqualTo(1);
        assertThat(ports.get(0).path("targetPort").asText()).isEqualTo("http");
        assertThat(service.path("spec").path("selector")).isEqualTo(deployment.path("spec").path("selector").path("matchLabels"));
    }

    /**
     * A Compose file with its anchors and merge keys ({@code <<: *gateway}) resolved, which Jackson's YAML parser
     * does not do.
     */
    private static JsonNode composeWithMergeKeys(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return YAML.valueToTree(new Yaml().load(reader));
        }
    }

    /** A Compose duration such as {@code 35s} or {@code 1m30s}. */
    private static Duration composeDuration(String text) {
        return Duration.parse("PT" + text.toUpperCase(Locale.ROOT));
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(file.toFile())) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(documents::add);
        }
        return documents;
    }

    private static JsonNode kind(List<JsonNode> documents, String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in the manifest"));
    }

    private static JsonNode container(JsonNode pod, String name) {
        return find(pod.path("containers"), "name", name);
    }

    private static int containerPort(JsonNode container, String name) {
        return find(container.path("ports"), "name", name).path("containerPort").asInt();
    }

    private static String mount(JsonNode mounts, String path) {
        return find(mounts, "mountPath", path).path("name").asText();
    }

    private static JsonNode volumeOf(JsonNode pod, String name) {
        return find(pod.path("volumes"), "name", name);
    }

    private static JsonNode find(JsonNode array, String key, String value) {
        return StreamSupport.stream(array.spliterator(), false).filter(n -> value.equals(n.path(key).asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no entry with " + key + "=" + value + " in " + array));
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(n -> texts.add(n.asText()));
        return texts;
    }
}
