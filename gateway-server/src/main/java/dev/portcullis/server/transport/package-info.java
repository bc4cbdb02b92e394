/** The I/O transport (epoll or NIO) that the listeners and the upstream pools share. */
@NullMarked
package dev.portcullis.server.transport;

import org.jspecify.annotations.NullMarked;
