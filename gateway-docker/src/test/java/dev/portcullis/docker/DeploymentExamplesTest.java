package dev.portcullis.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
