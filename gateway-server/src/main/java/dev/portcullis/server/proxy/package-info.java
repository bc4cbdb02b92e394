/** The streaming reverse proxy: upstream connection pool, frontend/backend handler pair, hop-by-hop rules. */
@NullMarked
package dev.portcullis.server.proxy;

import org.jspecify.annotations.NullMarked;
