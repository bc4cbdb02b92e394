package dev.portcullis.bench;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.ReferrerMatcher;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.policy.ScheduleMatcher;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneRules;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The schedule and referrer conditions, and the ways of turning an instant into a zone's wall time that
 * {@link ScheduleMatcher} chose between: a {@link ZonedDateTime} per evaluation, {@link ZoneRules#getOffset(Instant)}
 * plus epoch arithmetic, and the matcher's own offset table. Run with {@code -prof gc} to see the allocation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ScheduleBenchmark {

    private static final ZoneId ZONE = ZoneId.of("Europe/Berlin");
    private static final EnumSet<DayOfWeek> WEEKDAYS = EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
    private static final LocalTime FROM = LocalTime.of(8, 0);
    private static final LocalTime TO = LocalTime.of(19, 0);

    private ScheduleMatcher schedule;
    private ReferrerMatcher referrers;
    private ZoneRules rules;
    private AccessRequest[] requests;
    private Instant[] instants;
    private int next;

    @Setup
    public void setUp() {
        schedule = ScheduleMatcher.of(WEEKDAYS, FROM, TO, ZONE);
        referrers = ReferrerMatcher.of(List.of("none", "https://*.cdn.example.net/**", "https://app.example.com/**"));
        rules = ZONE.getRules();
        SplittableRandom random = new SplittableRandom(7);
        long start = Instant.parse("2026-01-01T00:00:00Z").getEpochSecond();
        requests = new AccessRequest[1024];
        instants = new Instant[requests.length];
        IpAddress ip = IpAddress.parse("192.0.2.1");
        for (int i = 0; i < requests.length; i++) {
            instants[i] = Instant.ofEpochSecond(start + random.nextLong(365L * 86_400), random.nextInt(1_000_000_000));
            RequestHeaders headers = RequestHeaders.of(Map.of("Referer",
                    List.of(i % 2 == 0 ? "https://App.Example.com/page/" + i + "?q=1" : "https://evil.example/x")));
            requests[i] = new AccessRequest("GET", "/", "example.com", ip, ip, headers)
                    .with(Clock.fixed(instants[i], ZoneOffset.UTC), GeoLookup.NONE);
            requests[i].now();
        }
    }

    @Benchmark
    public boolean scheduleMatcher() {
        return schedule.matches(requests[next++ & (requests.length - 1)]);
    }

    @Benchmark
    public boolean zonedDateTime() {
        ZonedDateTime local = instants[next++ & (instants.length - 1)].atZone(ZONE);
        LocalTime time = local.toLocalTime();
        return WEEKDAYS.contains(local.getDayOfWeek()) && !time.isBefore(FROM) && time.isBefore(TO);
    }

    @Benchmark
    public boolean zoneRulesGetOffset() {
        Instant instant = instants[next++ & (instants.length - 1)];
        long local = instant.getEpochSecond() + rules.getOffset(instant).getTotalSeconds();
        long secondOfDay = Math.floorMod(local, 86_400L);
        int day = (int) Math.floorMod(Math.floorDiv(local, 86_400L) + 3, 7);
        return day < 5 && secondOfDay >= 8 * 3600 && secondOfDay < 19 * 3600;
    }

    @Benchmark
    public boolean referrerMatcher() {
        return referrers.matches(requests[next++ & (requests.length - 1)]);
    }
}
