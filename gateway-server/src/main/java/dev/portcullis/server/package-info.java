/** The Netty side of Portcullis: listeners, lifecycle and transport selection. */
@NullMarked
package dev.portcullis.server;

import org.jspecify.annotations.NullMarked;
