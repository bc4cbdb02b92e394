/** Prometheus metrics (SPEC 5): request, reload, identity, JVM and Netty memory meters, all labelled from config. */
@NullMarked
package dev.portcullis.server.metrics;

import org.jspecify.annotations.NullMarked;
