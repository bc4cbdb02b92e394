package dev.portcullis.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KnownHeaderNamesTest {

    private static AsciiString lookup(String line, int start, int length) {
        return KnownHeaderNames.lookup(line.getBytes(StandardCharsets.ISO_8859_1), start, length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Authorization", "authorization", "X-Forwarded-For", "x-forwarded-for", "Host", "ETag",
        "etag", "TE", "te", "Strict-Transport-Security", "Content-Length", "content-length"})
    void aCommonNameSpelledAsUsualOrInLowerCaseIsOneSharedConstantWithTheSameBytes(String name) {
        String line = "  " + name + ": value";

        AsciiString found = lookup(line, 2, name.length());

        assertThat((Object) found).isNotNull();
        assertThat(found.toString()).isEqualTo(name);
        assertThat((Object) lookup(name, 0, name.length())).isSameAs(found);
    }

    /**
     * The request decoder skips its framing look-alike check (e.g. {@code Content_Length}) for these names, which is
     * safe only while every entry that folds to a framing header's name is that name exactly.
     */
    @Test
    void noEntryOnlyLooksLikeAFramingHeader() {
        for (AsciiString name : KnownHeaderNames.all()) {
            String folded = name.toString().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
            if (folded.equals("contentlength") || folded.equals("transferencoding")) {
                assertThat(name.toString()).isIn("Content-Length", "content-length", "Transfer-Encoding",
                        "transfer-encoding");
            }
        }
        assertThat(KnownHeaderNames.all()).hasSizeGreaterThan(100);
    }

    @ParameterizedTest
    @ValueSource(strings = {"AUTHORIZATION", "authoriZation", "Etag", "Content-length", "X-Forwarded-For2",
        "X-Forwarded-Fo", "X-Custom", "", "A-Name-Longer-Than-Any-Common-Header-Name-At-All"})
    void anyOtherSpellingIsNotReplaced(String name) {
        assertThat((Object) lookup(name, 0, name.length())).isNull();
    }
}
