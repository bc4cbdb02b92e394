package dev.portcullis.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import dev.portcullis.core.http.TargetResult;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathCaseTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /ADMIN/X              | /admin/x
            /Api/V1/Orders/       | /api/v1/orders/
            /a%3Fb/C%25D          | /a%3Fb/c%25d
            /CAF%C3%89            | /caf%C3%A9
            /%CE%A3%CE%9F%CE%A3   | /%CF%83%CE%BF%CF%83
            /%CF%82               | /%CF%83
            /%E2%84%AAelvin       | /kelvin
            /%C4%B0stanbul        | /istanbul
            /%C3%9F               | /%C3%9F
            /%E2%82%AC/%F0%9F%98%80 | /%E2%82%AC/%F0%9F%98%80
            /x%C3                 | /x%C3
            """)
    void foldsAsciiAndUnicodeKeepingTheCanonicalForm(String path, String folded) {
        assertThat(PathCase.fold(path)).isEqualTo(folded);
        assertThat(PathCase.fold(folded)).isEqualTo(folded);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin./x", "/admin%20/x", "/admin.%20./x", "/admin...", "/a/.../b", "/x.", "/a%20",
        "/%C3%A9t%C3%A9./x"})
    void aCaseInsensitivePolicyRefusesASegmentEndingInADotOrASpace(String path) {
        TargetResult target = new TargetResult.Accepted(path, null);

        assertThat(PathCase.screen(target, true)).isSameAs(PathCase.SEGMENT_ENDS_IN_DOT_OR_SPACE);
        assertThat(PathCase.screen(target, false)).as("a case-sensitive upstream has it as another name")
                .isSameAs(target);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/admin/x/", "/v1.2/x.json", "/.well-known/a", "/a%2520/x", "/a%20b/c", "/a.b"})
    void otherPathsPass(String path) {
        TargetResult target = new TargetResult.Accepted(path, null);
        assertThat(PathCase.screen(target, true)).isSameAs(target);
    }

    @Test
    void returnsAnAsciiPathWithNothingToFoldAsItIs() {
        for (String path : List.of("/", "/admin/x/", "/a%3Fb/%25", "/~user.v1_2-3")) {
            assertThat(PathCase.fold(path)).isSameAs(path);
        }
    }

    @Test
    void aPolicyFoldsTheRequestPathOnceAndExplainsWithThePathAsSent() {
        Rule admin = new Rule("admin", PathMatcher.of(List.of(PathGlob.compile("/Admin/**", true))),
                RequestMatcher.always(), Effect.DENY, 403, Mode.ENFORCE);
        Policy policy = new Policy(List.of(admin), Effect.ALLOW, true);
        AccessRequest request = TestRequests.get("/ADMIN/x/").build();

        Decision decision = policy.evaluate(request);

        assertThat(policy.caseInsensitivePaths()).isTrue();
        assertThat(decision.rule()).isEqualTo("admin");
        assertThat(decision.reason()).isEqualTo("rule admin: path /ADMIN/x/ matches /Admin/**");
        assertThat(request.withFoldedPath().matchPath()).isEqualTo("/admin/x/");
        assertThat(request.withFoldedPath().path()).isEqualTo("/ADMIN/x/");
        assertThat(policy.evaluate(TestRequests.get("/admins").build()).rule()).isNull();
    }

    @Test
    void aCaseInsensitiveMatcherFoldsARequestThatNoPolicyFolded() {
        PathMatcher matcher = PathMatcher.of(List.of(PathGlob.compile("/admin/**", true)));

        assertThat(matcher.matches(TestRequests.get("/Admin/Panel").build())).isTrue();
        assertThat(matcher.matches(TestRequests.get("/public").build())).isFalse();
        assertThat(matcher).hasToString("paths (case-insensitive) [/admin/**]");
    }

    @Test
    void aCaseSensitivePolicyDoesNotFold() {
        Rule admin = new Rule("admin", PathMatcher.of(List.of(PathGlob.compile("/admin/**"))),
                RequestMatcher.always(), Effect.DENY, 403, Mode.ENFORCE);
        Policy policy = new Policy(List.of(admin), Effect.ALLOW);

        assertThat(policy.caseInsensitivePaths()).isFalse();
        assertThat(policy.evaluate(TestRequests.get("/ADMIN/x").build()).rule()).isNull();
        assertThat(policy.evaluate(TestRequests.get("/admin/x/").build()).rule()).isEqualTo("admin");
    }
}
