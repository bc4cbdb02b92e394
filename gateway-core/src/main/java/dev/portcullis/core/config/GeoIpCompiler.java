package dev.portcullis.core.config;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Compiles {@code geoip} (SPEC 3): each database path resolved against the config's folder, and a readable
 * file now (unless loaded with {@link ConfigLoader.NamedFiles#UNCHECKED}). Whether it really is a MaxMind
 * database of the right type is checked when it is opened, as a configuration generation is built.
 */
final class GeoIpCompiler {
    private GeoIpCompiler() {}

    static GeoIpSettings compile(GatewayConfig config, Path baseDir, ConfigLoader.NamedFiles databases,
            Problems problems) {
        GeoIpConfig geoip = config.geoip();
        return new GeoIpSettings(
                file(geoip.database(), "geoip.database", "a MaxMind Country or City database (.mmdb)", baseDir,
                        databases, problems),
                file(geoip.asnDatabase(), "geoip.asn_database", "a MaxMind ASN database (.mmdb)", baseDir, databases,
                        problems));
    }

    private static @Nullable Path file(@Nullable String text, String path, String expected, Path baseDir,
            ConfigLoader.NamedFiles databases, Problems problems) {
        if (text == null) {
            return null;
        }
        Path file = text.isEmpty() ? null : baseDir.resolve(text).normalize();
        boolean checked = databases == ConfigLoader.NamedFiles.CHECKED;
        if (file == null || checked && (!Files.isRegularFile(file) || !Files.isReadable(file))) {
            problems.add(path, ConfigValues.quote(text) + " does not exist or is not readable (expected: " + expected
                    + "; relative paths resolve against the config file's folder)");
            return null;
        }
        return file;
    }
}
