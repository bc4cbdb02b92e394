/**
 * Offline evaluation of hypothetical requests: {@code portcullis explain} (one request, traced rule by rule) and
 * {@code portcullis test} (policy test cases, SPEC 3.10).
 */
@NullMarked
package dev.portcullis.core.explain;

import org.jspecify.annotations.NullMarked;
