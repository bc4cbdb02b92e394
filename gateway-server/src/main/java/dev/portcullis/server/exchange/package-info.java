/**
 * One client connection and its exchanges: per-connection state, the exchange record that logs and
 * metrics read when it finishes, and the answers the gateway writes itself.
 */
@NullMarked
package dev.portcullis.server.exchange;

import org.jspecify.annotations.NullMarked;
