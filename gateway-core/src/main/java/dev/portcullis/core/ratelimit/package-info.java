/**
 * Rate limiting (SPEC 3, {@code rate_limits}; 3.1, {@code rate_limit}): named token-bucket limiters, their keys and
 * the 429 arithmetic, behind an interface that a store shared by several replicas can implement later.
 */
@NullMarked
package dev.portcullis.core.ratelimit;

import org.jspecify.annotations.NullMarked;
