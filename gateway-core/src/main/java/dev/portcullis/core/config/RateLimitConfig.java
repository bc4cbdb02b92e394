package dev.portcullis.core.config;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code rate_limits} as written (SPEC 3): a named token bucket that rules refer to.
 *
 * @param name the limiter's name (the map key)
 * @param key {@code subject}, {@code client_ip} or {@code header:<Name>}; null when missing or invalid (reported)
 * @param limit tokens per {@code per}; null when missing or invalid (reported)
 * @param per the refill period; null when missing or invalid (reported)
 * @param burst extra capacity above {@code limit}
 * @param scope {@code local} or {@code shared}
 */
public record RateLimitConfig(
        String name, @Nullable String key, @Nullable Long limit, @Nullable Duration per, long burst, String scope) {}
