package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResponseFramingTest {

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"chunked", "Chunked", "CHUNKED", " chunked ", "chunked,", ", chunked"})
    void exactlyChunkedInAnyCaseIsRelayable(String value) {
        assertThat(ResponseFraming.isChunkedOnly(List.of(value))).isTrue();
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"gzip", "xchunked", "gzip, chunked", "identity, chunked", "chunked, chunked",
        "chunked, gzip", "", " , "})
    void anyOtherCodingIsNot(String value) {
        assertThat(ResponseFraming.isChunkedOnly(List.of(value))).isFalse();
    }

    @Test
    void codingsOnSeveralLinesCountTogether() {
        assertThat(ResponseFraming.isChunkedOnly(List.of("gzip", "chunked"))).isFalse();
        assertThat(ResponseFraming.isChunkedOnly(List.of("chunked", "chunked"))).isFalse();
        assertThat(ResponseFraming.isChunkedOnly(List.of("", "chunked"))).isTrue();
        assertThat(ResponseFraming.isChunkedOnly(List.of())).isFalse();
    }
}
