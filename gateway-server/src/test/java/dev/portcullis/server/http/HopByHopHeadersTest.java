package dev.portcullis.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** The single-pass strip: every spelling of a hop-by-hop name goes, names that merely look alike stay. */
class HopByHopHeadersTest {

    @Test
    void removesEveryFixedHopByHopHeaderInAnyCaseWithoutAConnectionHeader() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("KEEP-ALIVE", "timeout=5")
                .add("keep-alive", "max=3")
                .add("te", "trailers")
                .add("tRaIlEr", "X-Sum")
                .add("UPGRADE", "h2c")
                .add("proxy-x", "1")
                .add("PROXY-AUTHENTICATE", "Basic")
                .add("Accept", "*/*");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactly("Accept");
    }

    @Test
    void keepsNamesThatOnlyResembleHopByHopOnes() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Tee", "1")
                .add("T", "1")
                .add("Trailers", "1")
                .add("Upgraded", "1")
                .add("Keep-Alives", "1")
                .add("Proxy", "1")
                .add("X-Proxy-Id", "1")
                .add("Connections", "1");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder(
                "Tee", "T", "Trailers", "Upgraded", "Keep-Alives", "Proxy", "X-Proxy-Id", "Connections");
    }

    @Test
    void aConnectionHeaderInAnyCaseGoesWithTheHeadersItNamesButNotTheProtectedOnes() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("CONNECTION", "x-a ,,X-B,  authorization")
                .add("X-A", "1")
                .add("x-b", "2")
                .add("Authorization", "Bearer t")
                .add("X-C", "3");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder("Authorization", "X-C");
    }

    @Test
    void leavesHeadersWithoutHopByHopOnesUntouched() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Host", "h")
                .add("Content-Length", "0")
                .add("X-Request-Id", "abc");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder("Host", "Content-Length", "X-Request-Id");
        assertThat(headers.get("X-Request-Id")).isEqualTo("abc");
    }
}
