/**
 * The decision step a request goes through once its head has been screened: identity, then policy
 * (then, later, rate limits), giving a verdict the server only acts on.
 */
@NullMarked
package dev.portcullis.core.decision;

import org.jspecify.annotations.NullMarked;
