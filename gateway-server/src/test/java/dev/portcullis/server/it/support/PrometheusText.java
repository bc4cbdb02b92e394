package dev.portcullis.server.it.support;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written from the format's specification
 * and knowing nothing of the gateway: every line must be a {@code # HELP}, a {@code # TYPE}, another comment,
 * a sample or empty, and the families must be consistent (one TYPE and HELP each, declared before and
 * grouped with their samples, counters without negative values, histograms with cumulative {@code _bucket}
 * series ending in {@code le="+Inf"} and matching {@code _count}, plus {@code _sum}). Any deviation throws
 * {@link IllegalArgumentException} naming the line.
 */
public final class PrometheusText {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT =
            Pattern.compile("[+-]?(?:(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|NaN)");
    private static final Pattern TIMESTAMP = Pattern.compile("-?[0-9]+");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /** One sample line: its metric name, labels (in name order) and value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    /** A metric family: its name, type, help text (null when none) and samples in exposition order. */
    public record Family(String name, String type, String help, List<Sample> samples) {}

    private final Map<String, Family> families;

    private PrometheusText(Map<String, Family> families) {
        this.families = families;
    }

    /** The families by name, in exposition order. */
    public Map<String, Family> families() {
        return families;
    }

    /** Every sample named {@code name} (a family's name, or a histogram's {@code _bucket}, {@code _sum}, ...). */
    public List<Sample> samples(String name) {
        List<Sample> found = new ArrayList<>();
        for (Family family : families.values()) {
            for (Sample sample : family.samples()) {
                if (sample.name().equals(name)) {
                    found.add(sample);
                }
            }
        }
        return found;
    }

    /** The value of the sample {@code name} with exactly {@code labels}, or 0 when there is none (a counter not yet seen). */
    public double valueOrZero(String name, Map<String, String> labels) {
        for (Sample sample : samples(name)) {
            if (sample.labels().equals(labels)) {
                return sample.value();
            }
        }
        return 0;
    }

    /** Parses {@code text}; throws {@link IllegalArgumentException} at the first violation of the format. */
    public static PrometheusText parse(String text) {
        return new Parser().parse(text);
    }

    private static final class Parser {
        private final Map<String, String> types = new LinkedHashMap<>();
        private final Map<String, String> helps = new LinkedHashMap<>();
        private final Map<String, List<Sample>> samples = new LinkedHashMap<>();
        private final Set<String> closed = new HashSet<>();
        private final Set<String> seriesSeen = new HashSet<>();
        private String open;
        private int lineNo;
        private String line;

        PrometheusText parse(String text) {
            if (!text.isEmpty() && !text.endsWith("\n")) {
                throw new IllegalArgumentException("the exposition does not end with a line feed");
            }
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length - 1; i++) {
                lineNo = i + 1;
                line = lines[i];
                if (line.indexOf('\r') >= 0) {
                    fail("carriage return in line");
                }
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("#")) {
                    comment();
                } else {
                    sample();
                }
            }
            Map<String, Family> result = new LinkedHashMap<>();
            for (Map.Entry<String, List<Sample>> e : samples.entrySet()) {
                String name = e.getKey();
                String type = types.getOrDefault(name, "untyped");
                if (type.equals("histogram")) {
                    checkHistogram(name, e.getValue());
                }
                if (type.equals("summary")) {
                    checkSummary(name, e.getValue());
                }
                result.put(name, new Family(name, type, helps.get(name), List.copyOf(e.getValue())));
            }
            for (String declared : types.keySet()) {
                if (!samples.containsKey(declared)) {
                    result.put(declared, new Family(declared, types.get(declared), helps.get(declared), List.of()));
                }
            }
            return new PrometheusText(Collections.unmodifiableMap(result));
        }

        private void comment() {
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                String rest = line.substring(7);
                int space = rest.indexOf(' ');
                String name = space < 0 ? rest : rest.substring(0, space);
                if (!METRIC_NAME.matcher(name).matches()) {
                    fail("invalid metric name \"" + name + "\"");
                }
                String value = space < 0 ? "" : rest.substring(space + 1);
                if (line.startsWith("# HELP ")) {
                    if (helps.containsKey(name)) {
                        fail("second HELP for " + name);
                    }
                    helps.put(name, unescapeHelp(value));
                } else {
                    if (types.containsKey(name)) {
                        fail("second TYPE for " + name);
                    }
                    if (samples.containsKey(name) || closed.contains(name)) {
                        fail("TYPE for " + name + " after its samples");
                    }
                    if (!TYPES.contains(value)) {
                        fail("unknown type \"" + value + "\" (expected one of " + TYPES + ")");
                    }
                    types.put(name, value);
                }
                enter(name);
            } else if (line.startsWith("# HELP") || line.startsWith("# TYPE")) {
                fail("malformed HELP/TYPE line");
            }
            // any other line starting with '#' is a comment, which the format allows
        }

        private void sample() {
            int i = 0;
            while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
                i++;
            }
            String name = line.substring(0, i);
            if (!METRIC_NAME.matcher(name).matches()) {
                fail("invalid metric name \"" + name + "\"");
            }
            Map<String, String> labels = new TreeMap<>();
            if (i < line.length() && line.charAt(i) == '{') {
                i = labels(i + 1, labels);
            }
            if (i >= line.length() || line.charAt(i) != ' ') {
                fail("expected a space before the value");
            }
            String[] rest = line.substring(i + 1).split(" ", -1);
            if (rest.length > 2 || rest[0].isEmpty()) {
                fail("expected: value [timestamp]");
            }
            if (!FLOAT.matcher(rest[0]).matches()) {
                fail("invalid value \"" + rest[0] + "\"");
            }
            if (rest.length == 2 && !TIMESTAMP.matcher(rest[1]).matches()) {
                fail("invalid timestamp \"" + rest[1] + "\"");
            }
            double value = parseFloat(rest[0]);
            String family = family(name);
            String type = types.getOrDefault(family, "untyped");
            if (type.equals("counter") && (Double.isNaN(value) || value < 0)) {
                fail("counter " + name + " has value " + rest[0]);
            }
            if (!seriesSeen.add(name + labels)) {
                fail("duplicate series " + name + labels);
            }
            enter(family);
            samples.computeIfAbsent(family, k -> new ArrayList<>()).add(new Sample(name, Map.copyOf(labels), value));
        }

        /** The family a sample belongs to: the declared family its name extends by a suffix its type allows. */
        private String family(String name) {
            for (String suffix : List.of("_bucket", "_sum", "_count")) {
                if (name.endsWith(suffix)) {
                    String base = name.substring(0, name.length() - suffix.length());
                    String type = types.get(base);
                    if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
                        return base;
                    }
                }
            }
            String type = types.get(name);
            if ("histogram".equals(type)) {
                fail("histogram " + name + " sample without _bucket, _sum or _count");
            }
            return name;
        }

        /** Samples of one family must be contiguous, with its HELP and TYPE before them. */
        private void enter(String family) {
            if (family.equals(open)) {
                return;
            }
            if (closed.contains(family)) {
                fail("family " + family + " continues after another family began");
            }
            if (open != null) {
                closed.add(open);
            }
            open = family;
        }

        private int labels(int i, Map<String, String> labels) {
            while (true) {
                if (i < line.length() && line.charAt(i) == '}') {
                    return i + 1;
                }
                int eq = line.indexOf('=', i);
                if (eq < 0) {
                    fail("label without '='");
                }
                String name = line.substring(i, eq);
                if (!LABEL_NAME.matcher(name).matches()) {
                    fail("invalid label name \"" + name + "\"");
                }
                if (name.startsWith("__")) {
                    fail("reserved label name \"" + name + "\"");
                }
                if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                    fail("label value of " + name + " is not quoted");
                }
                StringBuilder value = new StringBuilder();
                int j = eq + 2;
                while (true) {
                    if (j >= line.length()) {
                        fail("unterminated label value of " + name);
                    }
                    char c = line.charAt(j);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (j + 1 >= line.length()) {
                            fail("dangling escape in label value of " + name);
                        }
                        char e = line.charAt(j + 1);
                        switch (e) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> fail("invalid escape \\" + e + " in label value of " + name);
                        }
                        j += 2;
                    } else {
                        value.append(c);
                        j++;
                    }
                }
                if (labels.put(name, value.toString()) != null) {
                    fail("label " + name + " repeated");
                }
                i = j + 1;
                if (i < line.length() && line.charAt(i) == ',') {
                    i++;
                } else if (i >= line.length() || line.charAt(i) != '}') {
                    fail("expected ',' or '}' after label " + name);
                }
            }
        }

        private void checkHistogram(String name, List<Sample> all) {
            Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
            Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
            Set<Map<String, String>> sums = new HashSet<>();
            for (Sample s : all) {
                if (s.name().equals(name + "_bucket")) {
                    String le = s.labels().get("le");
                    if (le == null) {
                        throw new IllegalArgumentException(name + "_bucket" + s.labels() + " has no le label");
                    }
                    if (!FLOAT.matcher(le).matches()) {
                        throw new IllegalArgumentException(name + "_bucket has invalid le \"" + le + "\"");
                    }
                    Map<String, String> key = new TreeMap<>(s.labels());
                    key.remove("le");
                    buckets.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
                } else if (s.name().equals(name + "_count")) {
                    counts.put(s.labels(), s.value());
                } else if (s.name().equals(name + "_sum")) {
                    sums.add(s.labels());
                } else {
                    throw new IllegalArgumentException("histogram " + name + " has sample " + s.name());
                }
            }
            if (buckets.isEmpty()) {
                throw new IllegalArgumentException("histogram " + name + " has no _bucket samples");
            }
            for (Map.Entry<Map<String, String>, List<Sample>> e : buckets.entrySet()) {
                double previousLe = Double.NEGATIVE_INFINITY;
                double previousCount = 0;
                for (Sample bucket : e.getValue()) {
                    double le = parseFloat(bucket.labels().get("le"));
                    if (!(le > previousLe)) {
                        throw new IllegalArgumentException(name + e.getKey() + ": le " + le + " not increasing");
                    }
                    if (bucket.value() < previousCount) {
                        throw new IllegalArgumentException(name + e.getKey() + ": bucket counts not cumulative");
                    }
                    previousLe = le;
                    previousCount = bucket.value();
                }
                if (previousLe != Double.POSITIVE_INFINITY) {
                    throw new IllegalArgumentException(name + e.getKey() + ": last bucket is not le=\"+Inf\"");
                }
                Double count = counts.get(e.getKey());
                if (count == null || !sums.contains(e.getKey())) {
                    throw new IllegalArgumentException(name + e.getKey() + ": missing _count or _sum");
                }
                if (count != previousCount) {
                    throw new IllegalArgumentException(
                            name + e.getKey() + ": _count " + count + " != +Inf bucket " + previousCount);
                }
            }
            if (!buckets.keySet().containsAll(counts.keySet()) || !buckets.keySet().containsAll(sums)) {
                throw new IllegalArgumentException(name + ": _count or _sum without buckets");
            }
        }

        private static void checkSummary(String name, List<Sample> all) {
            for (Sample s : all) {
                if (s.name().equals(name) && !s.labels().containsKey("quantile")) {
                    throw new IllegalArgumentException("summary " + name + " sample without quantile");
                }
            }
        }

        private static double parseFloat(String text) {
            return switch (text.startsWith("+") || text.startsWith("-") ? text.substring(1) : text) {
                case "Inf" -> text.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(text);
            };
        }

        private static String unescapeHelp(String text) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '\\' || text.charAt(i + 1) == 'n')) {
                    sb.append(text.charAt(i + 1) == 'n' ? '\n' : '\\');
                    i++;
                } else if (c == '\\') {
                    throw new IllegalArgumentException("invalid escape in HELP: " + text);
                } else {
                    sb.append(c);
                }
            }
            return sb.toString();
        }

        private void fail(String message) {
            throw new IllegalArgumentException("line " + lineNo + ": " + message + ": " + line);
        }
    }
}
