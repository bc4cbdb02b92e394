package dev.portcullis.core.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.http.TargetResult.Accepted;
import dev.portcullis.core.http.TargetResult.Rejected;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;

/**
 * Properties of the path canonicalizer (SPEC 3.4): every target is either rejected with 400, or accepted with a
 * canonical path that a second canonicalization leaves as it is; the forwarded target is that path and the query as
 * received.
 */
class RequestTargetPropertiesTest {

    private static final String HOST = "app.test";

    /** Pieces that exercise every branch: dot segments, escapes of every kind, reserved and forbidden characters. */
    private static final List<String> PIECES = List.of(
            "a", "B", "admin", "x.y", "~u", "-", "_", ".", "..", "...", "", "*", ":", "@", "!", "$", "&", "'", "(",
            "=", "+", ",", "%2e", "%2E", "%2e%2e", "%2E.", "%41", "%61", "%7e", "%7E", "%2d", "%25", "%2525",
            "%252F", "%20", "%3F", "%3f", "%3A", "%40", "%2F", "%2f", "%5C", "%3B", "%3b", ";", "%00", "%0a", "%7F",
            "%1f", "%C3%A9", "%c3%a9", "%E2%82%AC", "%F0%9F%98%80", "%C0%AF", "%ED%A0%80", "%FF", "%80", "%C3",
            "%C3%28", "%C2%85", "%C2%A0", "%", "%4", "%zz", "%%41", "\\", "#", " ", "\t", "\u00e9", "\u007f", "?");

    @Provide
    Arbitrary<String> targets() {
        Arbitrary<String> path = Arbitraries.of(PIECES).list().ofMaxSize(8).map(pieces -> "/" + String.join("/", pieces));
        Arbitrary<String> slashes = Arbitraries.of("", "/", "//", "/./", "/../");
        Arbitrary<String> query = Arbitraries.of("", "?", "?a=1", "?x=//y/../z%2F", "?q=%zz", "?a?b", "?q=#");
        Arbitrary<String> form = Arbitraries.of("", "", "", "http://" + HOST, "HTTP://APP.TEST", "http://other.test",
                "https://" + HOST, "*", "a", "http://");
        return Combinators.combine(form, slashes, path, query)
                .as((f, s, p, q) -> f + (s.isEmpty() ? p : s + p.substring(1)) + q);
    }

    @Property(tries = 2000)
    @StatisticsReport(StatisticsReport.StatisticsReportMode.OFF)
    void everyTargetIsRejectedOrCanonicalAndStable(@ForAll("targets") String target) {
        TargetResult result = RequestTarget.parse(target, HOST);
        String kind = result instanceof Rejected ? "rejected"
                : ((Accepted) result).uri().equals(target) ? "accepted as is" : "accepted rewritten";
        Statistics.label("outcome").collect(kind);
        Statistics.label("outcome").coverage(coverage -> {
            coverage.check("rejected").percentage(p -> p > 10);
            coverage.check("accepted as is").percentage(p -> p > 1);
            coverage.check("accepted rewritten").percentage(p -> p > 5);
        });

        if (result instanceof Rejected rejected) {
            assertThat(rejected.status()).as(target).isEqualTo(400);
            return;
        }
        Accepted accepted = (Accepted) result;
        String path = accepted.path();
        assertCanonical(target, path);
        int question = target.indexOf('?');
        assertThat(accepted.rawQuery()).as(target).isEqualTo(question < 0 ? null : target.substring(question + 1));
        assertThat(accepted.uri()).as(target)
                .isEqualTo(accepted.rawQuery() == null ? path : path + "?" + accepted.rawQuery());

        TargetResult again = RequestTarget.parse(accepted.uri(), HOST);
        assertThat(again).as("%s canonicalized again", accepted.uri()).isEqualTo(accepted);
    }

    private static void assertCanonical(String target, String path) {
        assertThat(path).as(target).startsWith("/").doesNotContain("//").doesNotContain(";").doesNotContain("?");
        for (String segment : path.substring(1).split("/", -1)) {
            assertThat(segment).as(target).isNotIn(".", "..");
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            assertThat(c > ' ' && c < 0x7F && c != '\\' && c != '#').as("%s -> %s", target, path).isTrue();
            if (c == '%') {
                int b = Integer.parseInt(path.substring(i + 1, i + 3), 16);
                assertThat(path.substring(i + 1, i + 3)).as(target).isUpperCase();
                boolean unreserved = Character.isLetterOrDigit(b) && b < 0x80 || "-._~".indexOf(b) >= 0;
                assertThat(unreserved).as("%s -> %s decodes %%%02X", target, path, b).isFalse();
                assertThat(b == '/' || b == '\\' || b == ';' || b < 0x20 || b == 0x7F).as(target).isFalse();
                boolean c1 = b == 0xC2 && i + 5 < path.length() && path.charAt(i + 3) == '%'
                        && Integer.parseInt(path.substring(i + 4, i + 6), 16) < 0xA0;
                assertThat(c1).as("%s -> %s keeps a C1 control", target, path).isFalse();
                i += 2;
            }
        }
    }
}
