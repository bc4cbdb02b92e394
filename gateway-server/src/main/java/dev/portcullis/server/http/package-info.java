/** HTTP helpers that the pipeline and the proxy share: header tokens, hop-by-hop headers, request ids, handler names, logged paths. */
@NullMarked
package dev.portcullis.server.http;

import org.jspecify.annotations.NullMarked;
