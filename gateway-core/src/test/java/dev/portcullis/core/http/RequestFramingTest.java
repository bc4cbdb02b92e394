package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The framing the gateway refuses before any rule runs (README "Status codes"), shared by the server and explain. */
class RequestFramingTest {

    @ParameterizedTest(name = "TE [{0}] CL [{1}] -> {2}")
    @CsvSource(delimiter = '|', nullValues = "none", value = {
            "          |         | none",
            "chunked   |         | none",
            "gzip, chunked |     | none",
            " X-GZIP ,CHUNKED |  | none",
            "          | 0       | none",
            "          | 123     | none",
            "chunked, chunked |  | BAD_TRANSFER_ENCODING",
            "gzip      |         | BAD_TRANSFER_ENCODING",
            "chunked, gzip |     | BAD_TRANSFER_ENCODING",
            "identity  |         | BAD_TRANSFER_ENCODING",
            "chunked;q=1 |       | BAD_TRANSFER_ENCODING",
            "chunked   | 3       | AMBIGUOUS_FRAMING",
            "          | -1      | BAD_CONTENT_LENGTH",
            "          | 1 2     | BAD_CONTENT_LENGTH",
            "          | +5      | BAD_CONTENT_LENGTH",
            "          | 1234567890123456789 | BAD_CONTENT_LENGTH",
    })
    void oneLineOfEachAtMost(String te, String cl, String expected) {
        List<String> transferEncodings = te == null ? List.of() : List.of(te);
        List<String> contentLengths = cl == null ? List.of() : List.of(cl);

        RequestFraming.Problem problem = RequestFraming.check(transferEncodings, contentLengths);

        assertThat(problem == null ? null : problem.name()).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void repeatedLinesAreRefusedEvenWhenEqual() {
        assertThat(RequestFraming.check(List.of("chunked", "chunked"), List.of()))
                .isEqualTo(RequestFraming.Problem.BAD_TRANSFER_ENCODING);
        assertThat(RequestFraming.check(List.of(), List.of("5", "5")))
                .isEqualTo(RequestFraming.Problem.BAD_CONTENT_LENGTH);
        assertThat(RequestFraming.Problem.AMBIGUOUS_FRAMING.code()).isEqualTo("ambiguous_framing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Transfer_Encoding", "transfer--encoding", "Content_Length", "CONTENT-LENGTH_",
            "_content-length", "TransferEncoding", "ContentLength"})
    void lookalikeNamesAreRecognised(String name) {
        byte[] line = ("x" + name + ": y").getBytes(StandardCharsets.ISO_8859_1);

        assertThat(RequestFraming.isLookalikeName(line, 1, name.length())).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Transfer-Encoding", "content-length", "CONTENT-LENGTH", "Content-Lengths", "X-Content-Length",
            "Content-Type", "Transfer-Encodin", "Content-Len\u00e7th"})
    void theExactNamesAndOtherNamesAreNot(String name) {
        byte[] line = name.getBytes(StandardCharsets.ISO_8859_1);

        assertThat(RequestFraming.isLookalikeName(line, 0, line.length)).isFalse();
    }

    @ParameterizedTest
    @CsvSource({"GET, false, true", "GET, true, false", "HEAD, true, true", "OPTIONS, false, true",
            "TRACE, false, true", "POST, false, false", "DELETE, false, false", "get, false, false"})
    void methodsWithoutABody(String method, boolean allowGetBody, boolean forbids) {
        assertThat(RequestFraming.forbidsBody(method, allowGetBody)).isEqualTo(forbids);
    }
}
