/** Per-connection request handling: codec limits, framing checks, access control, gateway-made answers. */
@NullMarked
package dev.portcullis.server.pipeline;

import org.jspecify.annotations.NullMarked;
