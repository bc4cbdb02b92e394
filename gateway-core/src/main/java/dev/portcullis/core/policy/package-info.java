/** The compiled, immutable access policy: request matchers, rules and the first-match evaluator (SPEC 3.1, 3.2). */
@NullMarked
package dev.portcullis.core.policy;

import org.jspecify.annotations.NullMarked;
