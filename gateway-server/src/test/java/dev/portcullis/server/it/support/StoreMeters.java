package dev.portcullis.server.it.support;

import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * The shared rate limit store's meters (SPEC 5) as a gateway's {@code /metrics} shows them:
 * {@code portcullis_rate_limit_store_errors_total} and {@code portcullis_rate_limit_store_up}.
 */
public final class StoreMeters {
    public static final String ERRORS = "portcullis_rate_limit_store_errors_total";
    public static final String UP = "portcullis_rate_limit_store_up";

    private StoreMeters() {
    }

    /** The gateway's {@code /metrics} text. */
    public static String metricsText(GatewayHarness harness, Gateway gw) throws Exception {
        return harness.client().send(HttpRequest.newBuilder(gw.adminUri("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The unlabelled sample {@code name}, or 0 when there is none. */
    public static double value(GatewayHarness harness, Gateway gw, String name) throws Exception {
        return PrometheusText.parse(metricsText(harness, gw)).valueOrZero(name, Map.of());
    }

    /** Waits until the store's connection is up (it is set up in the background, and reconnects with backoff). */
    public static void awaitUp(GatewayHarness harness, Gateway gw, Duration within) throws Exception {
        if (await(harness, gw, UP, 1, within) != 1) {
            throw new AssertionError("the rate limit store did not connect within " + within);
        }
    }

    /**
     * Waits until the unlabelled sample {@code name} is {@code expected}. A failed answer is counted on the store's
     * loop, which may be after the gateway answered the request on its own loop, so a scrape right after the
     * answer may not show it yet.
     */
    public static void awaitValue(GatewayHarness harness, Gateway gw, String name, double expected, Duration within)
            throws Exception {
        double last = await(harness, gw, name, expected, within);
        if (last != expected) {
            throw new AssertionError(name + " is " + last + " after " + within + " (expected: " + expected + ")");
        }
    }

    /** Scrapes until sample {@code name} is {@code expected} or {@code within} has passed; returns its last value. */
    private static double await(GatewayHarness harness, Gateway gw, String name, double expected, Duration within)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        double last = value(harness, gw, name);
        while (last != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            last = value(harness, gw, name);
        }
        return last;
    }
}
