package dev.portcullis.core.net;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The client-IP rule of SPEC 3.3: the TCP peer, or, behind trusted proxies, the right-most forwarded address that is
 * not itself a trusted proxy.
 */
public final class ClientIpResolver {

    /*
     * Implementation notes: entries are walked from the right, because only the right end of
     * X-Forwarded-For was written by proxies we trust; anything to the left of the first
     * untrusted hop may be forged by the client. An entry that is not an address stops the walk
     * and the last address already accepted wins, so garbage can never move the answer further
     * left. Several header lines count as one comma-joined list, in order. Entries are parsed in
     * place (index ranges), so the common X-Forwarded-For path allocates only the result.
     * Forwarded (RFC 7239) is consulted only without X-Forwarded-For; its "for" values that are
     * "unknown", obfuscated ("_hidden") or missing stop the walk like garbage does, and a header
     * line with a syntax error stops it at that line's right end.
     */

    private final CidrSet trustedProxies;

    /** A resolver that believes forwarding headers from peers in {@code trustedProxies} only. */
    public ClientIpResolver(CidrSet trustedProxies) {
        this.trustedProxies = trustedProxies;
    }

    /** The trusted proxy networks. */
    public CidrSet trustedProxies() {
        return trustedProxies;
    }

    /** Whether {@code peer} is a trusted proxy, whose forwarding headers are believed. */
    public boolean isTrusted(IpAddress peer) {
        return trustedProxies.contains(peer);
    }

    /**
     * The client address.
     *
     * @param peer the TCP peer
     * @param xForwardedFor every X-Forwarded-For header value, in order
     * @param forwarded every Forwarded header value, in order
     */
    public IpAddress resolve(IpAddress peer, List<String> xForwardedFor, List<String> forwarded) {
        if (!isTrusted(peer)) {
            return peer;
        }
        if (!xForwardedFor.isEmpty()) {
            return walkXForwardedFor(peer, xForwardedFor);
        }
        if (!forwarded.isEmpty()) {
            return walkForwarded(peer, forwarded);
        }
        return peer;
    }

    private IpAddress walkXForwardedFor(IpAddress peer, List<String> values) {
        IpAddress last = peer;
        for (int h = values.size() - 1; h >= 0; h--) {
            String value = values.get(h);
            int end = value.length();
            while (true) {
                int comma = value.lastIndexOf(',', end - 1);
                IpAddress address = parseNode(value, comma + 1, end, false);
                if (address == null) {
                    return last;
                }
                last = address;
                if (!isTrusted(address)) {
                    return address;
                }
                if (comma < 0) {
                    break;
                }
                end = comma;
            }
        }
        return last;
    }

    private IpAddress walkForwarded(IpAddress peer, List<String> values) {
        IpAddress last = peer;
        for (int h = values.size() - 1; h >= 0; h--) {
            List<@Nullable IpAddress> nodes = forNodes(values.get(h));
            for (int i = nodes.size() - 1; i >= 0; i--) {
                IpAddress address = nodes.get(i);
                if (address == null) {
                    return last;
                }
                last = address;
                if (!isTrusted(address)) {
                    return address;
                }
            }
        }
        return last;
    }

    /**
     * The {@code for} node of each element of one Forwarded header line, left to right; null for a
     * node that is not an address. A syntax error adds a final null and ends the line.
     */
    private static List<@Nullable IpAddress> forNodes(String value) {
        List<@Nullable IpAddress> nodes = new ArrayList<>(4);
        @Nullable IpAddress node = null;
        int i = 0;
        int n = value.length();
        while (true) {
            i = skipWhitespace(value, i);
            int nameStart = i;
            while (i < n && isTokenChar(value.charAt(i))) {
                i++;
            }
            int nameEnd = i;
            i = skipWhitespace(value, i);
            if (nameEnd == nameStart || i >= n || value.charAt(i) != '=') {
                nodes.add(null);
                return nodes;
            }
            i = skipWhitespace(value, i + 1);
            int valueStart;
            int valueEnd;
            boolean escaped = false;
            if (i < n && value.charAt(i) == '"') {
                valueStart = ++i;
                while (i < n && value.charAt(i) != '"') {
                    if (value.charAt(i) == '\\') {
                        escaped = true;
                        i++;
                    }
                    i++;
                }
                if (i >= n) {
                    nodes.add(null);
                    return nodes;
                }
                valueEnd = i++;
            } else {
                valueStart = i;
                while (i < n && value.charAt(i) != ';' && value.charAt(i) != ',') {
                    i++;
                }
                valueEnd = i;
            }
            if (nameEnd - nameStart == 3 && value.regionMatches(true, nameStart, "for", 0, 3)) {
                node = escaped ? null : parseNode(value, valueStart, valueEnd, true);
            }
            i = skipWhitespace(value, i);
            if (i < n && value.charAt(i) == ';') {
                i++;
                continue;
            }
            nodes.add(node);
            node = null;
            if (i >= n) {
                return nodes;
            }
            if (value.charAt(i) != ',') {
                nodes.add(null);
                return nodes;
            }
            i++;
        }
    }

    /**
     * Parses one forwarded node: an address, {@code 1.2.3.4:80}, {@code [2001:db8::1]} or, when {@code ipv6Port} (the
     * RFC 7239 {@code Forwarded: for="[2001:db8::1]:443"} syntax), {@code [2001:db8::1]:443}, surrounded by optional
     * whitespace; null for anything else. In X-Forwarded-For SPEC 3.3 tolerates a port only on IPv4.
     */
    static @Nullable IpAddress parseNode(CharSequence s, int start, int end, boolean ipv6Port) {
        while (start < end && isWhitespace(s.charAt(start))) {
            start++;
        }
        while (end > start && isWhitespace(s.charAt(end - 1))) {
            end--;
        }
        if (start == end) {
            return null;
        }
        if (s.charAt(start) == '[') {
            int close = start + 1;
            while (close < end && s.charAt(close) != ']') {
                close++;
            }
            if (close == end || (close + 1 < end && (!ipv6Port || !isPort(s, close + 1, end)))) {
                return null;
            }
            IpAddress address = IpAddress.parseOrNull(s, start + 1, close);
            boolean written6 = false;
            for (int i = start + 1; i < close && !written6; i++) {
                written6 = s.charAt(i) == ':';
            }
            return written6 ? address : null;
        }
        IpAddress address = IpAddress.parseOrNull(s, start, end);
        if (address != null) {
            return address;
        }
        int colon = -1;
        for (int i = start; i < end; i++) {
            if (s.charAt(i) == ':') {
                if (colon >= 0) {
                    return null;
                }
                colon = i;
            }
        }
        return colon > start && isPort(s, colon, end) ? IpAddress.parseOrNull(s, start, colon) : null;
    }

    /** Whether {@code s[start, end)} is ":" and a port number, 0 to 65535. */
    private static boolean isPort(CharSequence s, int start, int end) {
        if (s.charAt(start) != ':' || end - start < 2 || end - start > 6) {
            return false;
        }
        int port = 0;
        for (int i = start + 1; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535;
    }

    private static int skipWhitespace(String s, int i) {
        while (i < s.length() && isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isTokenChar(char c) {
        return c >= '!' && c <= '~' && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
}
