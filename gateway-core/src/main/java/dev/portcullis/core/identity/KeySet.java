package dev.portcullis.core.identity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** An immutable generation of a provider's verification keys, indexed by {@code kid}. */
final class KeySet {

    private final long generation;
    private final List<VerifyingKey> keys;
    private final Map<String, List<VerifyingKey>> byKid;
    private final List<VerifyingKey> withoutKid;
    private final Set<String> ids;

    KeySet(long generation, List<VerifyingKey> keys) {
        this.generation = generation;
        this.keys = List.copyOf(keys);
        Map<String, List<VerifyingKey>> index = new HashMap<>();
        List<VerifyingKey> anonymous = new ArrayList<>();
        Set<String> allIds = new HashSet<>();
        for (VerifyingKey key : keys) {
            allIds.add(key.id());
            String kid = key.kid();
            if (kid == null) {
                anonymous.add(key);
            } else {
                index.computeIfAbsent(kid, k -> new ArrayList<>()).add(key);
            }
        }
        Map<String, List<VerifyingKey>> frozen = new HashMap<>();
        index.forEach((kid, list) -> frozen.put(kid, List.copyOf(list)));
        this.byKid = Map.copyOf(frozen);
        this.withoutKid = List.copyOf(anonymous);
        this.ids = Set.copyOf(allIds);
    }

    long generation() {
        return generation;
    }

    int size() {
        return keys.size();
    }

    /** Keys named {@code kid}; empty when none is. */
    List<VerifyingKey> withKid(String kid) {
        return byKid.getOrDefault(kid, List.of());
    }

    /** Keys without a {@code kid}: they are candidates for every token, as in Envoy's jwt_authn. */
    List<VerifyingKey> withoutKid() {
        return withoutKid;
    }

    /** All keys, for tokens without a {@code kid}. */
    List<VerifyingKey> all() {
        return keys;
    }

    /** True when this set holds the same key under the same name (the same {@link VerifyingKey#id()}). */
    boolean contains(VerifyingKey key) {
        return ids.contains(key.id());
    }

    /** True when both sets hold the same keys: a refresh that changes nothing keeps the generation. */
    boolean sameKeys(KeySet other) {
        return ids.equals(other.ids);
    }
}
