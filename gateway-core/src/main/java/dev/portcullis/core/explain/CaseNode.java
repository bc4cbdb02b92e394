package dev.portcullis.core.explain;

import com.fasterxml.jackson.core.JsonToken;
import java.util.List;
import java.util.Map;

/** A node of a cases file's YAML tree, which remembers the line and column it starts at. */
sealed interface CaseNode permits CaseNode.MapNode, CaseNode.ListNode, CaseNode.Scalar {

    int line();

    int column();

    /** A key of a mapping, where the key is, and its value. */
    record Entry(String key, int line, int column, CaseNode value) {}

    /** A mapping, its entries in file order. */
    record MapNode(int line, int column, Map<String, Entry> entries) implements CaseNode {}

    /** A list. */
    record ListNode(int line, int column, List<CaseNode> items) implements CaseNode {}

    /** A scalar: its token ({@link JsonToken#VALUE_NULL} for null) and text ({@code "null"} for null). */
    record Scalar(int line, int column, JsonToken token, String text) implements CaseNode {}
}
