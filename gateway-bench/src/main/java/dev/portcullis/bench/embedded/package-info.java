/** Netty channels that let the gateway's real pipelines run in memory, on the calling thread, for benchmarks and guards. */
@NullMarked
package dev.portcullis.bench.embedded;

import org.jspecify.annotations.NullMarked;
