/** The picocli command line: run, check. */
@NullMarked
package dev.portcullis.server.cli;

import org.jspecify.annotations.NullMarked;
