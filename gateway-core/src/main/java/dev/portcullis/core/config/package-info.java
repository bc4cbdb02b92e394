/**
 * The config layer: {@code policy.yaml} bytes to a located YAML tree, to immutable {@code *Config}
 * records, validated and compiled into a {@link dev.portcullis.core.config.CompiledConfig}.
 *
 * <p>This is the only package where strings from YAML exist. Every problem found on the way is
 * collected with its file, line, column and key path and reported at once through
 * {@link dev.portcullis.core.config.ConfigException} (SPEC 3.9).
 */
@NullMarked
package dev.portcullis.core.config;

import org.jspecify.annotations.NullMarked;
