package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class NettyRequestHeadersTest {

    @Test
    void aNameMatchesInAnyCaseAndWithUnderscoreForDash() {
        HttpHeaders lines = new DefaultHttpHeaders().add("x_tenant", "acme").add("X-Custom", "1").add("Accept", "*/*");
        NettyRequestHeaders headers = new NettyRequestHeaders(lines);

        assertThat(headers.first("X-Tenant")).isEqualTo("acme");
        assertThat(headers.contains("X-TENANT")).isTrue();
        assertThat(headers.containsValue("X-Tenant", "acme")).isTrue();
        assertThat(headers.containsValue("X-Tenant", "Acme")).isFalse();

        assertThat(headers.first("X_Custom")).isEqualTo("1");
        assertThat(headers.containsValue("x_custom", "1")).isTrue();
        assertThat(headers.first("accept")).isEqualTo("*/*");
    }

    @Test
    void anotherNameIsNotMatched() {
        NettyRequestHeaders headers = new NettyRequestHeaders(new DefaultHttpHeaders().add("X_Tenant2", "acme")
                .add("XTenant", "b").add("X--Tenant", "c"));

        assertThat(headers.first("X-Tenant")).isNull();
        assertThat(headers.contains("X-Tenant")).isFalse();
        assertThat(headers.containsValue("X-Tenant", "acme")).isFalse();
        assertThat(headers.contains("Referer")).isFalse();
    }
}
