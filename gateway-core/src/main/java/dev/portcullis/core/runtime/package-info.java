/** The live, atomically swapped gateway state: compiled config snapshots and their holder. */
@NullMarked
package dev.portcullis.core.runtime;

import org.jspecify.annotations.NullMarked;
