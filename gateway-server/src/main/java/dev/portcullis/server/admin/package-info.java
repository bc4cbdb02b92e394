/** The admin listener: health, readiness and config status endpoints. */
@NullMarked
package dev.portcullis.server.admin;

import org.jspecify.annotations.NullMarked;
