/**
 * The Redis client behind {@code scope: shared} rate limiters (SPEC 3, {@code rate_limit_store}): one pipelined
 * connection per store, running the bucket script.
 */
@NullMarked
package dev.portcullis.server.ratelimit;

import org.jspecify.annotations.NullMarked;
