package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.Probe;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SPEC 3.2 and 3.4: one trailing {@code /} is ignored for matching and kept when forwarding; with
 * {@code upstream.case_insensitive_paths} request paths and globs are case folded for matching (a segment ending in
 * a dot or a space is refused), and the path is forwarded as sent. Raw requests; what the recording upstream received is asserted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PathMatchingIT {

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static Probe probe(boolean caseInsensitive) throws Exception {
        return new Probe(harness, harness.start("path-matching.yaml",
                Map.of("CASE_INSENSITIVE", Boolean.toString(caseInsensitive))));
    }

    @ParameterizedTest(name = "case_insensitive_paths: {0}")
    @ValueSource(booleans = {false, true})
    void aTrailingSlashIsIgnoredForMatchingAndForwarded(boolean caseInsensitive) throws Exception {
        Probe p = probe(caseInsensitive);

        p.forbidden("/admin/x/");
        p.forbidden("/admin/");
        p.forbiddenAs("DELETE", "/api/users/42/");
        p.rejected(404, "GET", "/internal/");
        assertThat(p.allowed("/api/users/42/").target()).isEqualTo("/api/users/42/");
        assertThat(p.allowed("/api/users/42/?q=1").target()).isEqualTo("/api/users/42/?q=1");
        // "/api/users/" is matched as "/api/users", which "/api/users/*" does not match: default allow
        assertThat(p.allowedAs("DELETE", "/api/users/").target()).isEqualTo("/api/users/");
        assertThat(p.allowed("/internals/").target()).isEqualTo("/internals/");
    }

    @Test
    void matchingIsCaseSensitiveByDefault() throws Exception {
        Probe p = probe(false);

        assertThat(p.allowed("/ADMIN/x").target()).isEqualTo("/ADMIN/x");
        assertThat(p.allowed("/Admin/").target()).isEqualTo("/Admin/");
        assertThat(p.allowedAs("DELETE", "/API/Users/42").target()).isEqualTo("/API/Users/42");
        assertThat(p.allowed("/CAF%C3%89/menu").target()).isEqualTo("/CAF%C3%89/menu");
        assertThat(p.allowed("/Internal").target()).isEqualTo("/Internal");
    }

    @Test
    void caseInsensitivePathsHitTheRulesInAnyCaseAndForwardThePathAsSent() throws Exception {
        Probe p = probe(true);

        p.forbidden("/ADMIN/x");
        p.forbidden("/admin/x/");
        p.forbidden("/Admin");
        p.forbidden("/aDmIn/X/y/");
        p.forbidden("/%41DMIN/x");
        p.forbidden("/x/../ADMIN/x");
        p.forbidden("/CAF%C3%89/menu");
        p.forbidden("/Caf%C3%A9");
        p.forbiddenAs("DELETE", "/API/Users/42/");
        p.rejected(404, "GET", "/INTERNAL/");
        assertThat(p.allowed("/Api/Users/42/").target()).isEqualTo("/Api/Users/42/");
        assertThat(p.allowed("/Administrator").target()).isEqualTo("/Administrator");
        assertThat(p.allowed("/Public/Index.HTML?Q=A").target()).isEqualTo("/Public/Index.HTML?Q=A");
    }

    @Test
    void caseInsensitivePathsRefuseASegmentEndingInADotOrASpace() throws Exception {
        Probe p = probe(true);

        // IIS would serve /admin./x as /admin/x, Express as another name: no one reading is safe to match on
        for (String path : List.of("/admin./x", "/ADMIN%20/x", "/admin.%20./x", "/Admin.", "/internal...",
                "/public./x", "/api/users./42")) {
            p.rejected(400, "GET", path);
        }
        assertThat(p.allowed("/public/v1.2/a.json").target()).isEqualTo("/public/v1.2/a.json");

        Probe sensitive = probe(false);
        assertThat(sensitive.allowed("/admin./x").target()).as("a distinct name for a case-sensitive upstream")
                .isEqualTo("/admin./x");
    }
}
