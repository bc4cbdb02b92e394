/** JMH benchmarks of the core: policy evaluation, CIDR lookups, JWT verification. */
@NullMarked
package dev.portcullis.bench;

import org.jspecify.annotations.NullMarked;
