/**
 * Who the client is: verified JWT bearer tokens (SPEC 3.5), the identity they carry, and the typed
 * outcome of resolving one.
 */
@NullMarked
package dev.portcullis.core.identity;

import org.jspecify.annotations.NullMarked;
