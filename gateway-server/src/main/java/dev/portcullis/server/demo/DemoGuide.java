package dev.portcullis.server.demo;

import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code portcullis demo} prints once the gateway is ready: the addresses, then one copy-paste
 * {@code curl} command per behaviour of the bundled policy, each under a comment line
 * {@code # <status>  <what it shows>}, after the {@code export} line that sets the demo tokens they use.
 */
public final class DemoGuide {
    /** Each command prints the answer's body, then {@code -> <status>}. */
    private static final String CURL = "curl -s -w ' -> %{http_code}\\n' ";

    /** One command and the status it gets when run once, in the order printed. */
    public record Example(int status, String what, String command) {}

    private final String gateway;
    private final String tokens;
    private final List<Example> examples;

    private DemoGuide(String gateway, String tokens, List<Example> examples) {
        this.gateway = gateway;
        this.tokens = tokens;
        this.examples = List.copyOf(examples);
    }

    /** The guide for a gateway on {@code port}, tokens signed by {@code keys}, at {@code now}. */
    public static DemoGuide of(int port, DemoKeys keys, Instant now) {
        String gateway = "http://127.0.0.1:" + port;
        String tokens = "export READER='" + keys.token("alice", List.of("reader"), now, Duration.ofHours(12))
                + "' ADMIN='" + keys.token("root", List.of("admin"), now, Duration.ofHours(12))
                + "' EXPIRED='" + keys.token("alice", List.of("reader"), now, Duration.ofHours(-1)) + "'";
        String reader = bearer("READER");
        String admin = bearer("ADMIN");
        String expired = bearer("EXPIRED");
        boolean open = isOfficeHours(now);
        List<Example> all = new ArrayList<>();
        all.add(new Example(200, "a token with role reader reads an order; the echo shows what the upstream was told",
                CURL + reader + gateway + "/api/orders/42"));
        all.add(new Example(401, "no token: anonymous, so the role check asks for one (WWW-Authenticate)",
                CURL + gateway + "/api/orders/42"));
        all.add(new Example(401, "an expired token is rejected (the log line says token_expired)",
                CURL + expired + gateway + "/api/orders/42"));
        all.add(new Example(403, "a reader may not delete: rule orders-write needs role admin",
                CURL + "-X DELETE " + reader + gateway + "/api/orders/42"));
        all.add(new Example(200, "an admin may",
                CURL + "-X DELETE " + admin + gateway + "/api/orders/42"));
        all.add(new Example(403, "a client in the blocked network 203.0.113.0/24 (127.0.0.1 is a trusted proxy)",
                CURL + "-H 'X-Forwarded-For: 203.0.113.9' " + gateway + "/public/hello"));
        all.add(new Example(403, "/uk/ is for clients in GB; this machine's address has no country (ZZ)",
                CURL + gateway + "/uk/news"));
        all.add(new Example(200, "a client at 81.2.69.160, GB in the demo's GeoIP database",
                CURL + "-H 'X-Forwarded-For: 81.2.69.160' " + gateway + "/uk/news"));
        all.add(new Example(open ? 200 : 403, "/reports/ is open mon-fri 08:00-18:00 UTC, so "
                + (open ? "now it is open" : "now it is closed"), CURL + gateway + "/reports/today"));
        all.add(new Example(404, "/internal/ is hidden: deny_status 404",
                CURL + gateway + "/internal/metrics"));
        all.add(new Example(200, "audit: the log line's \"audit\" shows rule legacy-clients-trial would deny it",
                CURL + "-A 'LegacyClient/1.0' " + reader + gateway + "/api/orders"));
        all.add(new Example(429, "3 requests per minute per client on /public/: the 4th is rate limited",
                "for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code} ' " + gateway + "/public/hello; done; echo"));
        return new DemoGuide(gateway, tokens, all);
    }

    private static String bearer(String variable) {
        return "-H \"Authorization: Bearer $" + variable + "\" ";
    }

    /** Whether the bundled rule office-hours (mon-fri 08:00-18:00 UTC) holds at {@code now}. */
    static boolean isOfficeHours(Instant now) {
        ZonedDateTime utc = now.atZone(ZoneOffset.UTC);
        return utc.getDayOfWeek().compareTo(DayOfWeek.SATURDAY) < 0 && utc.getHour() >= 8 && utc.getHour() < 18;
    }

    /** The commands, in the order printed. */
    public List<Example> examples() {
        return examples;
    }

    /**
     * The shell line that sets the demo tokens the commands use: READER (role reader), ADMIN (role admin), both
     * valid for 12 hours, and EXPIRED.
     */
    public String tokens() {
        return tokens;
    }

    /** The text printed once the gateway is ready. */
    public String render(int adminPort, int upstreamPort, Path policy) {
        StringBuilder out = new StringBuilder();
        out.append("Portcullis demo is serving.\n")
                .append("  gateway   ").append(gateway).append('\n')
                .append("  admin     http://127.0.0.1:").append(adminPort).append("  (/healthz /readyz /config /metrics)\n")
                .append("  upstream  http://127.0.0.1:").append(upstreamPort)
                .append("  (an echo server: answers with the method, path and identity headers it received)\n")
                .append("  policy    ").append(policy).append("  (deleted at exit)\n\n")
                .append("Paste these into another terminal; each prints the answer, then its status.\n")
                .append("The decision log line of every request (JSON, one per request) appears here as it is served.\n\n")
                .append("# first, the demo tokens (ES256, signed with a key made at start; READER and ADMIN last 12 hours)\n")
                .append(tokens).append("\n\n");
        for (Example example : examples) {
            out.append("# ").append(example.status()).append("  ").append(example.what()).append('\n')
                    .append(example.command()).append("\n\n");
        }
        return out.append("Press Ctrl-C to stop.\n").toString();
    }
}
