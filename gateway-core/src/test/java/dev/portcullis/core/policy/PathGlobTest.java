package dev.portcullis.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathGlobTest {

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            /                 | /                    | true
            /                 | /a                   | false
            /healthz          | /healthz             | true
            /healthz          | /healthz/            | true
            /healthz          | /healthzz            | false
            /healthz          | /Healthz             | false
            /a/               | /a/                  | true
            /a/               | /a                   | true
            /a/b              | /a/b/                | true
            /a/*              | /a/b/                | true
            /admin            | /admin/              | true
            /**               | /                    | true
            /**               | /a                   | true
            /**               | /a/b/c/              | true
            /a/**             | /a                   | true
            /a/**             | /a/                  | true
            /a/**             | /a/b                 | true
            /a/**             | /a/b/c               | true
            /a/**             | /ab                  | false
            /a/**             | /b/a                 | false
            /a/**             | /                    | false
            /a/**/z           | /a/z                 | true
            /a/**/z           | /a/b/z               | true
            /a/**/z           | /a/b/c/z             | true
            /a/**/z           | /a/z/z               | true
            /a/**/z           | /a/z/                | true
            /a/**/z           | /a/b                 | false
            /a/**/z           | /a/zz                | false
            /**/z             | /z                   | true
            /**/z             | /a/b/z               | true
            /**/z             | /a/b/z/c             | false
            /a/**/b/**/c      | /a/b/c               | true
            /a/**/b/**/c      | /a/x/b/y/z/c         | true
            /a/**/b/**/c      | /a/x/c/b             | false
            /**/**            | /x/y                 | true
            /a/**/            | /a/                  | true
            /a/**/            | /a/b/                | true
            /a/**/            | /a/b                 | true
            /api/users/*      | /api/users/42        | true
            /api/users/*      | /api/users/          | false
            /api/users/*      | /api/users/42/       | true
            /api/users/*      | /api/users           | false
            /api/users/*      | /api/users/42/roles  | false
            /api/*/orders     | /api/v1/orders       | true
            /api/*/orders     | /api/v1/v2/orders    | false
            /files/*.pdf      | /files/report.pdf    | true
            /files/*.pdf      | /files/.pdf          | true
            /files/*.pdf      | /files/report.pdf.gz | false
            /files/*.pdf      | /files/a/report.pdf  | false
            /a*b*c            | /abc                 | true
            /a*b*c            | /axxbyyc             | true
            /a*b*c            | /axxbyyca            | false
            /a*b*c            | /acb                 | false
            /*                | /                    | true
            /*                | /anything            | true
            /*                | /a/b                 | false
            /*/               | /a/                  | true
            /*/               | /a                   | true
            /*/*              | /a/b                 | true
            /caf%C3%A9/*      | /caf%C3%A9/menu      | true
            /café/*           | /caf%C3%A9/menu      | true
            /%7Euser          | /~user               | true
            /a%3fb            | /a%3Fb               | true
            /a%3Fb            | /a?b                 | false
            """)
    void matchesCanonicalPaths(String glob, String path, boolean expected) {
        assertThat(PathGlob.compile(glob).matches(path)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            /admin/**         | /ADMIN/x             | true
            /admin/**         | /admin/x/            | true
            /Admin/**         | /aDMIN               | true
            /admin/**         | /admins              | false
            /api/*/Orders     | /API/V1/orders/      | true
            /caf%C3%A9/*      | /CAF%C3%89/menu      | true
            /CAFÉ/*           | /caf%C3%A9/menu      | true
            /%CE%A3%CE%A3     | /%CF%83%CF%82        | true
            /a%3fb            | /A%3Fb               | true
            /a%3fb            | /A%3fB               | false
            /kelvin           | /%E2%84%AAelvin      | true
            /stra%C3%9Fe      | /STRASSE             | false
            """)
    void matchesFoldedPathsCaseInsensitively(String glob, String path, boolean expected) {
        assertThat(PathGlob.compile(glob, true).matches(PathCase.fold(path))).isEqualTo(expected);
        assertThat(PathGlob.compile(glob, true).caseInsensitive()).isTrue();
    }

    @Test
    void caseSensitiveGlobsAndFoldedGlobsDiffer() {
        assertThat(PathGlob.compile("/Admin").matches("/admin")).isFalse();
        assertThat(PathGlob.compile("/Admin", true).matches("/admin")).isTrue();
        assertThat(PathGlob.compile("/Admin", true)).isNotEqualTo(PathGlob.compile("/Admin"));
        assertThat(PathGlob.compile("/Admin", true)).hasToString("/Admin");
    }

    @Test
    void neverMatchesANonAbsolutePath() {
        assertThat(PathGlob.compile("/**").matches("")).isFalse();
        assertThat(PathGlob.compile("/**").matches("a/b")).isFalse();
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            ''            | a path starting with /
            admin/**      | a path starting with /
            **            | a path starting with /
            /a**          | ** only as a whole segment
            /**a          | ** only as a whole segment
            /a/***        | ** only as a whole segment
            /a//b         | no empty, . or .. segments, which never occur in a normalized path
            //            | no empty, . or .. segments, which never occur in a normalized path
            /a/./b        | no empty, . or .. segments, which never occur in a normalized path
            /a/..         | no empty, . or .. segments, which never occur in a normalized path
            /%2e%2E/a     | no empty, . or .. segments, which never occur in a normalized path
            /a b          | no whitespace, control characters, ?, #, \\ or ;
            /a?x          | no whitespace, control characters, ?, #, \\ or ;
            /a#x          | no whitespace, control characters, ?, #, \\ or ;
            /a\\b         | no whitespace, control characters, ?, #, \\ or ;
            /a;b          | no whitespace, control characters, ?, #, \\ or ;
            /a%zz         | % followed by two hex digits
            /a%4          | % followed by two hex digits
            /a%2Fb        | no encoded /, \\, ; or control characters, which requests may not contain
            /a%00         | no encoded /, \\, ; or control characters, which requests may not contain
            """)
    void rejectsGlobsThatCouldNeverMatch(String glob, String expected) {
        assertThatThrownBy(() -> PathGlob.compile(glob))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"" + glob + "\" is not a valid path glob (expected: " + expected
                        + ", e.g. /api/*/orders or /admin/**)");
    }

    @Test
    void keepsTheSourceTextForMessages() {
        PathGlob glob = PathGlob.compile("/café/**");

        assertThat(glob).hasToString("/café/**");
        assertThat(glob).isEqualTo(PathGlob.compile("/café/**")).hasSameHashCodeAs(PathGlob.compile("/café/**"));
    }
}
