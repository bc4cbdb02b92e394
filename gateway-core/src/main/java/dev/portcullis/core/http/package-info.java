/** Request-target validation and path canonicalization (SPEC 3.4). */
@NullMarked
package dev.portcullis.core.http;

import org.jspecify.annotations.NullMarked;
