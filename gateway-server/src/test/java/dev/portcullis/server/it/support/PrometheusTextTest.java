package dev.portcullis.server.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The strict test-side Prometheus text parser accepts the format and rejects every deviation it checks. */
class PrometheusTextTest {

    private static final String VALID = """
            # HELP http_requests_total The total number of HTTP requests.\\nSecond line \\\\ backslash
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400",} 3
            # A free comment
            # TYPE msdos_file_access_time_seconds gauge
            msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9
            # TYPE temperature gauge
            temperature -Inf
            temperature{room="a"} NaN

            something_untyped 42
            # HELP http_request_duration_seconds A histogram.
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{le="0.05"} 24054
            http_request_duration_seconds_bucket{le="0.1"} 33444
            http_request_duration_seconds_bucket{le="+Inf"} 144320
            http_request_duration_seconds_sum 53423
            http_request_duration_seconds_count 144320
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.5"} 4773
            rpc_duration_seconds_sum 1.7560473e+07
            rpc_duration_seconds_count 2693
            """;

    @Test
    void parsesEveryLineOfAValidExposition() {
        PrometheusText text = PrometheusText.parse(VALID);

        assertThat(text.families().keySet()).containsExactly("http_requests_total",
                "msdos_file_access_time_seconds", "temperature", "something_untyped",
                "http_request_duration_seconds", "rpc_duration_seconds");
        assertThat(text.families().get("http_requests_total").help())
                .isEqualTo("The total number of HTTP requests.\nSecond line \\ backslash");
        assertThat(text.families().get("something_untyped").type()).isEqualTo("untyped");
        assertThat(text.valueOrZero("http_requests_total", Map.of("method", "post", "code", "400"))).isEqualTo(3);
        assertThat(text.valueOrZero("http_requests_total", Map.of("method", "get", "code", "200"))).isZero();
        assertThat(text.samples("msdos_file_access_time_seconds").get(0).labels())
                .containsEntry("path", "C:\\DIR\\FILE.TXT")
                .containsEntry("error", "Cannot find file:\n\"FILE.TXT\"");
        assertThat(text.samples("msdos_file_access_time_seconds").get(0).value()).isEqualTo(1.458255915e9);
        assertThat(text.samples("temperature").get(0).value()).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(text.samples("temperature").get(1).value()).isNaN();
        assertThat(text.samples("http_request_duration_seconds_bucket")).hasSize(3);
        assertThat(text.families().get("http_request_duration_seconds").samples()).hasSize(5);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("bad metric name", "1metric 1\n"),
                Arguments.of("dash in metric name", "my-metric 1\n"),
                Arguments.of("bad label name", "m{1a=\"x\"} 1\n"),
                Arguments.of("reserved label name", "m{__name__=\"x\"} 1\n"),
                Arguments.of("unquoted label value", "m{a=x} 1\n"),
                Arguments.of("unterminated label value", "m{a=\"x} 1\n"),
                Arguments.of("invalid escape", "m{a=\"\\t\"} 1\n"),
                Arguments.of("repeated label", "m{a=\"x\",a=\"y\"} 1\n"),
                Arguments.of("missing comma", "m{a=\"x\" b=\"y\"} 1\n"),
                Arguments.of("bad value", "m 1,5\n"),
                Arguments.of("word value", "m Infinity\n"),
                Arguments.of("missing value", "m\n"),
                Arguments.of("two spaces", "m  1\n"),
                Arguments.of("bad timestamp", "m 1 1.5\n"),
                Arguments.of("trailing garbage", "m 1 2 3\n"),
                Arguments.of("no final newline", "m 1"),
                Arguments.of("carriage return", "m 1\r\n"),
                Arguments.of("unknown type", "# TYPE m counters\nm 1\n"),
                Arguments.of("second TYPE", "# TYPE m gauge\n# TYPE m gauge\nm 1\n"),
                Arguments.of("second HELP", "# HELP m a\n# HELP m b\nm 1\n"),
                Arguments.of("TYPE after samples", "m 1\n# TYPE m gauge\n"),
                Arguments.of("malformed TYPE", "# TYPE\n"),
                Arguments.of("interleaved families", "a 1\nb 1\na{x=\"1\"} 1\n"),
                Arguments.of("duplicate series", "m{a=\"1\"} 1\nm{a=\"1\"} 2\n"),
                Arguments.of("negative counter", "# TYPE c_total counter\nc_total -1\n"),
                Arguments.of("histogram without +Inf",
                        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
                Arguments.of("histogram bucket without le",
                        "# TYPE h histogram\nh_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
                Arguments.of("histogram not cumulative",
                        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
                Arguments.of("histogram le not increasing",
                        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
                Arguments.of("histogram count mismatch",
                        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"),
                Arguments.of("histogram without sum", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"),
                Arguments.of("histogram bare sample", "# TYPE h histogram\nh 1\n"),
                Arguments.of("summary without quantile", "# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejects(String what, String exposition) {
        assertThatThrownBy(() -> PrometheusText.parse(exposition)).isInstanceOf(IllegalArgumentException.class);
    }
}
