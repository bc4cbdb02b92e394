package dev.portcullis.core.policy;

import java.util.List;

/** Formatting shared by the matchers' explanations and descriptions. */
final class Explain {

    private static final int MAX_ITEMS = 5;

    private Explain() {
    }

    /** {@code [a, b, c]}, cut after a few items: {@code [a, b, c, d, e, ... 3 more]}. */
    static String list(List<?> items) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < items.size() && i < MAX_ITEMS; i++) {
            sb.append(i == 0 ? "" : ", ").append(items.get(i));
        }
        if (items.size() > MAX_ITEMS) {
            sb.append(", ... ").append(items.size() - MAX_ITEMS).append(" more");
        }
        return sb.append(']').toString();
    }

    /** The value shown for a possibly empty request attribute. */
    static String value(String value) {
        return value.isEmpty() ? "(none)" : value;
    }
}
