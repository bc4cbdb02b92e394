/** {@code portcullis demo}: an echo upstream, generated keys and a bundled policy, to see the gateway work. */
@NullMarked
package dev.portcullis.server.demo;

import org.jspecify.annotations.NullMarked;
