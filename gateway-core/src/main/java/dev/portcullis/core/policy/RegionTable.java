package dev.portcullis.core.policy;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** An open-addressing table from strings to masks, looked up by a region of another string without allocating. */
final class RegionTable {
    private final String[] keys;
    private final long[][] values;
    private final int mask;
    private final boolean ignoreCase;

    RegionTable(Map<String, long[]> entries, boolean ignoreCase) {
        int capacity = Integer.highestOneBit(Math.max(4, entries.size() * 2)) * 2;
        this.keys = new String[capacity];
        this.values = new long[capacity][];
        this.mask = capacity - 1;
        this.ignoreCase = ignoreCase;
        entries.forEach((key, value) -> {
            int slot = hash(key, 0, key.length(), ignoreCase) & mask;
            while (keys[slot] != null) {
                slot = (slot + 1) & mask;
            }
            keys[slot] = key;
            values[slot] = value;
        });
    }

    private static int hash(String s, int start, int end, boolean ignoreCase) {
        int h = 0;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (ignoreCase && c >= 'A' && c <= 'Z') {
                c = (char) (c + ('a' - 'A'));
            }
            h = 31 * h + c;
        }
        return h ^ (h >>> 16);
    }

    long @Nullable [] get(String s, int start, int end) {
        int length = end - start;
        int slot = hash(s, start, end, ignoreCase) & mask;
        for (String key = keys[slot]; key != null; key = keys[slot]) {
            if (key.length() == length && s.regionMatches(ignoreCase, start, key, 0, length)) {
                return values[slot];
            }
            slot = (slot + 1) & mask;
        }
        return null;
    }
}
