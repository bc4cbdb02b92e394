package dev.portcullis.core.config;

import dev.portcullis.core.ratelimit.SharedStoreSettings.OnError;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * {@code rate_limit_store.redis} as written (SPEC 3): the Redis that the {@code scope: shared} limiters draw on.
 *
 * @param url {@code redis://} or {@code rediss://} URL; null when missing (reported)
 * @param passwordEnv the environment variable holding the password, or null
 * @param timeout how long a request waits for Redis at most
 * @param onError what a request gets when Redis fails or is too slow
 */
public record RateLimitStoreConfig(@Nullable String url, @Nullable String passwordEnv, Duration timeout,
        OnError onError) {}
