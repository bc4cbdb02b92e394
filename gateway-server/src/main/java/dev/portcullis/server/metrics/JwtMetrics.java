package dev.portcullis.server.metrics;

import dev.portcullis.core.identity.JwtIdentityResolver;
import dev.portcullis.core.identity.ProviderStatus;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * The bearer-token meters: verifications by result, verified-token cache hits and misses, and usable keys per
 * provider, all read at scrape time from the resolver of the <em>current</em> snapshot.
 *
 * <p>The resolver is never held here: a reload replaces it (continuing its counts), and the meters follow.
 */
final class JwtMetrics {
    /** The {@code provider} label of the one provider that may be configured without an issuer. */
    static final String NO_ISSUER = "(no issuer)";

    private final SnapshotHolder snapshots;
    private final MultiGauge jwksKeys;

    JwtMetrics(SnapshotHolder snapshots, MeterRegistry registry) {
        this.snapshots = snapshots;
        counter(registry, "portcullis.jwt.verifications", "valid", JwtIdentityResolver::resolvedCount);
        for (RejectReason reason : RejectReason.values()) {
            counter(registry, "portcullis.jwt.verifications", reason.code(), jwt -> jwt.rejectedCount(reason));
        }
        FunctionCounter.builder("portcullis.jwt.cache.hits", snapshots, s -> count(s, JwtIdentityResolver::cacheHits))
                .description("Bearer tokens answered from the verified-token cache")
                .register(registry);
        FunctionCounter.builder("portcullis.jwt.cache.misses", snapshots, s -> count(s, JwtMetrics::notFromCache))
                .description("Bearer tokens not answered from the verified-token cache (verified or rejected)")
                .register(registry);
        FunctionCounter.builder("portcullis.jwt.signature.verifications", snapshots,
                        s -> count(s, JwtIdentityResolver::signatureVerifications))
                .description("Signature checks performed (a token may need several candidate keys, a cache hit none)")
                .register(registry);
        this.jwksKeys = MultiGauge.builder("portcullis.jwks.keys")
                .description("Usable verification keys held per JWT provider")
                .register(registry);
    }

    /**
     * Registers one {@code portcullis_jwks_keys} series per provider of {@code live}, dropping others. {@code live} is
     * the generation being swapped in, which the holder may not publish yet: a reload prepares its meters first.
     */
    void providersChanged(GatewaySnapshot live) {
        JwtIdentityResolver jwt = live.jwt();
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        if (jwt != null) {
            for (ProviderStatus status : jwt.providerStatus()) {
                String provider = provider(status);
                rows.add(MultiGauge.Row.of(Tags.of("provider", provider), () -> keys(provider)));
            }
        }
        jwksKeys.register(rows, true);
    }

    private double keys(String provider) {
        GatewaySnapshot snapshot = snapshots.current();
        JwtIdentityResolver jwt = snapshot != null ? snapshot.jwt() : null;
        if (jwt != null) {
            for (ProviderStatus status : jwt.providerStatus()) {
                if (provider(status).equals(provider)) {
                    return status.keys();
                }
            }
        }
        return Double.NaN;
    }

    private static String provider(ProviderStatus status) {
        String issuer = status.issuer();
        return issuer != null ? issuer : NO_ISSUER;
    }

    private void counter(MeterRegistry registry, String name, String result, ToLongFunction<JwtIdentityResolver> f) {
        FunctionCounter.builder(name, snapshots, s -> count(s, f))
                .description("Bearer tokens verified, by result: valid or the rejection reason")
                .tag("result", result)
                .register(registry);
    }

    private static long notFromCache(JwtIdentityResolver jwt) {
        long seen = jwt.resolvedCount();
        for (RejectReason reason : RejectReason.values()) {
            seen += jwt.rejectedCount(reason);
        }
        return seen - jwt.cacheHits();
    }

    private static double count(SnapshotHolder snapshots, ToLongFunction<JwtIdentityResolver> f) {
        GatewaySnapshot snapshot = snapshots.current();
        @Nullable JwtIdentityResolver jwt = snapshot != null ? snapshot.jwt() : null;
        return jwt != null ? f.applyAsLong(jwt) : 0;
    }
}
