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

        assertThat(headers.firstAnySpelling("X-Tenant")).isEqualTo("acme");
        assertThat(headers.containsAnySpelling("X-TENANT")).isTrue();
        assertThat(headers.containsValueAnySpelling("X-Tenant", "acme")).isTrue();
        assertThat(headers.containsValueAnySpelling("X-Tenant", "Acme")).isFalse();

        assertThat(headers.firstAnySpelling("X_Custom")).isEqualTo("1");
        assertThat(headers.containsValueAnySpelling("x_custom", "1")).isTrue();
        assertThat(headers.firstAnySpelling("accept")).isEqualTo("*/*");
    }

    @Test
    void firstReadsTheExactNameOnlyAsIdentityHeadersNeed() {
        NettyRequestHeaders headers = new NettyRequestHeaders(new DefaultHttpHeaders().add("X_Forwarded_User", "eve")
                .add("x-forwarded-groups", "ops"));

        assertThat(headers.first("X-Forwarded-User")).isNull();
        assertThat(headers.first("X-Forwarded-Groups")).isEqualTo("ops");
    }

    @Test
    void anotherNameIsNotMatched() {
        NettyRequestHeaders headers = new NettyRequestHeaders(new DefaultHttpHeaders().add("X_Tenant2", "acme")
                .add("XTenant", "b").add("X--Tenant", "c"));

        assertThat(headers.firstAnySpelling("X-Tenant")).isNull();
        assertThat(headers.containsAnySpelling("X-Tenant")).isFalse();
        assertThat(headers.containsValueAnySpelling("X-Tenant", "acme")).isFalse();
        assertThat(headers.containsAnySpelling("Referer")).isFalse();
    }
}
