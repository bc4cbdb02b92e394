/**
 * How the server reloads its config file: the core reloader wired to the server, and what triggers it besides
 * the admin API (file watching, signals).
 */
@NullMarked
package dev.portcullis.server.reload;

import org.jspecify.annotations.NullMarked;
