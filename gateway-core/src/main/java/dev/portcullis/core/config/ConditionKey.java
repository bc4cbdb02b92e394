package dev.portcullis.core.config;

import dev.portcullis.core.policy.RequestMatcher;
import dev.portcullis.core.policy.RoleBits;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One key of a {@code match}/{@code require} condition (SPEC 3.2): how its YAML value is read and checked,
 * and what matcher it compiles to. Adding a condition is adding one of these to {@link ConditionKeys#ALL};
 * nothing else in the config layer names condition keys.
 *
 * @param <T> the bound value: strings, lists and maps as written, nothing parsed yet
 */
abstract class ConditionKey<T> {
    private final String name;
    private final Class<T> type;

    ConditionKey(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    /** The YAML key. */
    final String name() {
        return name;
    }

    final Class<T> type() {
        return type;
    }

    /** Reads the written value; null when it is unusable (reported through {@code reader}). */
    abstract @Nullable T bind(YamlNode node, String path, Reader reader);

    /**
     * Checks the bound value and compiles it; null when it is invalid (reported through {@code compiler}) or
     * holds nothing to match.
     */
    abstract @Nullable RequestMatcher compile(T value, String path, Compiler compiler);

    /** Compiles the bound value into the parts a condition ANDs; a key may add several (one per map entry). */
    void compileInto(T value, String path, Compiler compiler, List<RequestMatcher> parts) {
        RequestMatcher matcher = compile(value, path, compiler);
        if (matcher != null) {
            parts.add(matcher);
        }
    }

    /** {@link #compileInto} for a value of unknown type, which must be this key's. */
    final void compileBound(Object value, String path, Compiler compiler, List<RequestMatcher> parts) {
        compileInto(type.cast(value), path, compiler, parts);
    }

    /** What a key may read YAML with: the binder's typed readers, which report every problem they meet. */
    interface Reader {
        /** A list of scalars as text; null when not a list or an element is unusable. */
        @Nullable List<String> strings(YamlNode node, String path, String expected);

        /** A boolean; null when unusable. */
        @Nullable Boolean bool(YamlNode node, String path);

        /** A map of string keys to lists of scalars read by {@code values}; null when unusable. */
        @Nullable Map<String, List<String>> stringLists(YamlNode node, String path, String expected, ListReader values);

        /** The entries of a map with only {@code keys} (others reported as unknown); null when not a map. */
        @Nullable Map<String, YamlNode> section(YamlNode node, String path, List<String> keys, String expected);

        /** A nested condition; null when unusable. */
        @Nullable ConditionConfig condition(YamlNode node, String path);

        /** A list of nested conditions; null when not a list. */
        @Nullable List<ConditionConfig> conditions(YamlNode node, String path);

        /** A scalar as text; null when unusable. */
        @Nullable String string(YamlNode node, String path);

        /** The claim value reader: strings, and numbers and booleans as the text claims compare by. */
        ListReader claimValues();
    }

    /** Reads the list at one map entry. */
    interface ListReader {
        @Nullable List<String> read(YamlNode node, String path);
    }

    /** What a key may compile with: the config-wide settings conditions depend on, and problem reporting. */
    interface Compiler {
        /** Whether paths are matched case-insensitively ({@code upstream.case_insensitive_paths}). */
        boolean caseInsensitivePaths();

        /** Whether a GeoIP country database is configured ({@code geoip.database}). */
        boolean hasCountryDatabase();

        /** Whether a GeoIP ASN database is configured ({@code geoip.asn_database}). */
        boolean hasAsnDatabase();

        /** The bits the policy's role conditions share ({@link RoleBits}). */
        RoleBits roleBits();

        /** Reports a problem at {@code path}. */
        void problem(String path, String message);

        /** Reports a warning, which does not stop the load, at {@code path}. */
        void warning(String path, String message);

        /** Applies {@code factory} to each text, reporting each failure at its index; null if any failed. */
        <E> @Nullable List<E> each(@Nullable List<String> texts, String path, Factory<E> factory);

        /** The matcher {@code factory} builds, or null after reporting its failure at {@code path}. */
        @Nullable RequestMatcher build(String path, MatcherFactory factory);

        /** Compiles a nested condition. */
        RequestMatcher condition(@Nullable ConditionConfig condition, String path);
    }

    /** Compiles one element; throws {@link IllegalArgumentException} with a message showing the value and what was expected. */
    interface Factory<E> {
        E apply(String text);
    }

    /** Builds a matcher; throws {@link IllegalArgumentException} when the values do not make one. */
    interface MatcherFactory {
        RequestMatcher get();
    }
}
