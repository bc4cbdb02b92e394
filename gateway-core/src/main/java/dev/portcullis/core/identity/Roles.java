package dev.portcullis.core.identity;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * An identity's roles: an immutable set in the order first given (so the upstream's roles header lists them as the
 * token did), that can be read by index without an iterator ({@link #size()}, {@link #get(int)}) on the request path.
 */
public final class Roles extends AbstractSet<String> {

    private static final Roles NONE = new Roles(new String[0]);

    private final String[] names;
    private final Set<String> lookup;

    private Roles(String[] names) {
        this.names = names;
        this.lookup = Set.of(names);
    }

    /** {@code roles} as {@link Roles}, duplicates dropped; a null role throws {@link NullPointerException}. */
    public static Roles copyOf(Collection<String> roles) {
        if (roles instanceof Roles known) {
            return known;
        }
        if (roles.isEmpty()) {
            return NONE;
        }
        // a set (what the claim and header readers build) is unique already: its array is all there is to copy
        Collection<String> unique = roles instanceof Set<String> ? roles : new LinkedHashSet<>(roles);
        String[] names = unique.toArray(String[]::new);
        for (String name : names) {
            Objects.requireNonNull(name, "role");
        }
        return new Roles(names);
    }

    /** The role at {@code index}, in the order first given. */
    public String get(int index) {
        return names[index];
    }

    @Override
    public int size() {
        return names.length;
    }

    @Override
    public boolean contains(Object role) {
        return role != null && lookup.contains(role);
    }

    @Override
    public Iterator<String> iterator() {
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < names.length;
            }

            @Override
            public String next() {
                if (next >= names.length) {
                    throw new NoSuchElementException();
                }
                return names[next++];
            }
        };
    }
}
