package dev.portcullis.core.runtime;

import dev.portcullis.core.config.CompiledConfig;
import java.time.Instant;

/**
 * One immutable generation of the gateway's configuration: what a request is decided by from head to end.
 *
 * @param config the compiled configuration
 * @param generation increases by one with every applied (re)load, starting at 1
 * @param loadedAt when this generation was compiled
 */
public record GatewaySnapshot(CompiledConfig config, long generation, Instant loadedAt) {}
