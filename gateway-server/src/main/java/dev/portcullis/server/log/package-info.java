/** The JSON decision/access log line. */
@NullMarked
package dev.portcullis.server.log;

import org.jspecify.annotations.NullMarked;
