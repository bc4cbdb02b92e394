package dev.portcullis.core.runtime;

import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigException;
import dev.portcullis.core.config.ConfigProblem;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.config.ConfigText;
import dev.portcullis.core.config.ResourceProblems;
import dev.portcullis.core.geo.GeoDatabaseException;
import dev.portcullis.core.geo.MaxMindGeoLookup;
import dev.portcullis.core.identity.JwtResolverOptions;
import dev.portcullis.core.identity.KeySourceException;
import dev.portcullis.core.identity.KeySourceCheck;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What to report when a snapshot could not be built because a file or secret the config names cannot be used:
 * building stops at the first such resource, so every resource is then tried on its own, and each failure is
 * located in the config file at the key that names it (SPEC 3.9: every error, as {@code FILE:LINE:COLUMN}).
 */
public final class ResourceFailures {

    private ResourceFailures() {}

    /**
     * The problems of {@code config}'s resources, loaded from {@code file}, after building a snapshot of it threw
     * {@code first}: {@code first} and every other resource that fails on its own, in the file's order. Nothing is
     * fetched from the network. Blocking file I/O: not for an event loop.
     */
    public static List<ConfigProblem> problems(Path file, CompiledConfig config, ConfigResourceException first,
            Clock clock, ScheduledExecutorService scheduler) {
        List<ConfigResourceException> failures = new ArrayList<>();
        failures.add(first);
        // Only what the failed build did not reach is tried: it opens the country database, then the ASN database,
        // then each provider's keys, and stops at the first failure (opening a database indexes all of it).
        List<ConfigResourceException> others = new ArrayList<>();
        int fromProvider = 0;
        if (first instanceof KeySourceException keys) {
            fromProvider = keys.providerIndex() + 1;
        } else if (first.keyPath().equals(MaxMindGeoLookup.COUNTRY_KEY) && config.geoip().asnDatabase() != null) {
            GeoDatabaseException asn = MaxMindGeoLookup.failure(null, config.geoip().asnDatabase());
            if (asn != null) {
                others.add(asn);
            }
        }
        others.addAll(KeySourceCheck.failures(config.identity().jwtProviders(), fromProvider,
                JwtResolverOptions.defaults(clock, scheduler)));
        for (ConfigResourceException other : others) {
            if (!other.keyPath().equals(first.keyPath())) {
                failures.add(other);
            }
        }
        byte[] yaml;
        try {
            yaml = ConfigText.readBytes(file);
        } catch (IOException | ConfigException e) {
            yaml = new byte[0]; // gone or grown past the cap since it was loaded: the problems are reported at 1:1
        }
        List<ConfigProblem> problems = new ArrayList<>(ResourceProblems.locate(file.toString(), yaml, failures));
        problems.sort(ConfigProblem.FILE_ORDER);
        return problems;
    }
}
