/** What triggers a config reload besides the admin API: file watching and signals. */
@NullMarked
package dev.portcullis.server.reload;

import org.jspecify.annotations.NullMarked;
