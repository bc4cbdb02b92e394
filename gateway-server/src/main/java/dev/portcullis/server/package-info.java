/** The Netty side of Portcullis: listeners and lifecycle. */
@NullMarked
package dev.portcullis.server;

import org.jspecify.annotations.NullMarked;
