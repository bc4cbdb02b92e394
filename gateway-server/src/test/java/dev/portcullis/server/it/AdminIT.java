package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.Probe;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** SPEC 6: health endpoints live on the admin port only; the public port proxies or denies those paths. */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AdminIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    @Test
    void listensOnTwoDifferentPorts() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        assertThat(gw.port()).isPositive();
        assertThat(gw.adminPort()).isPositive().isNotEqualTo(gw.port());
    }

    @Test
    void answersHealthzAndReadyzOnTheAdminPort() throws Exception {
        Gateway gw = harness.start("default-deny.yaml");

        HttpResponse<byte[]> healthz = adminGet(gw, "/healthz");
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(healthz.headers().firstValue("Date")).as("admin answers carry a Date too").isPresent();
        assertThat(adminGet(gw, "/readyz").statusCode()).isEqualTo(200);
        assertThat(adminGet(gw, "/metrics").headers().firstValue("Date")).isPresent();
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void adminPortDoesNotProxy() throws Exception {
        Gateway gw = harness.start("proxy.yaml");

        HttpResponse<byte[]> r = adminGet(gw, "/some/upstream/path");

        assertThat(r.statusCode()).isNotEqualTo(200);
        harness.upstream().assertReceivedNothing(Probe.QUIET);
    }

    @Test
    void publicPortProxiesHealthPathsToTheUpstreamWhenThePolicyAllows() throws Exception {
        Gateway gw = harness.start("proxy.yaml");
        Probe p = new Probe(harness, gw);

        assertThat(p.allowed("/healthz").target()).isEqualTo("/healthz");
        assertThat(p.allowed("/readyz").target()).isEqualTo("/readyz");
    }

    @Test
    void publicPortDeniesHealthPathsWhenThePolicyDenies() throws Exception {
        Probe p = new Probe(harness, harness.start("default-deny.yaml"));

        p.forbidden("/healthz");
        p.forbidden("/readyz");
    }

    @Test
    void answersARequestPipelinedBehindAReloadAfterTheReload(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.yaml");
        Files.writeString(file, """
                listen: "127.0.0.1:0"
                admin:
                  listen: "127.0.0.1:0"
                upstream:
                  url: "http://127.0.0.1:PORT"
                default: allow
                rules: []
                """.replace("PORT", Integer.toString(harness.upstream().port())));
        Gateway gw = harness.startFile(file);

        try (RawHttp raw = RawHttp.connect(gw.adminPort())) {
            raw.send("POST /reload HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n");
            RawResponse reload = raw.readResponse();
            RawResponse health = raw.readResponse();

            assertThat(reload.status()).isEqualTo(200);
            assertThat(reload.bodyText()).contains("\"generation\":2");
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.bodyText()).isEqualTo("{\"status\":\"ok\"}");
        }
    }

    private static HttpResponse<byte[]> adminGet(Gateway gw, String path) throws Exception {
        return harness.client().send(HttpRequest.newBuilder(gw.adminUri(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }
}
