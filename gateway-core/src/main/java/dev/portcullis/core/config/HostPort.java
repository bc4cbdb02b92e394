package dev.portcullis.core.config;

import dev.portcullis.core.net.IpAddress;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * A host and port to listen on, as written in {@code listen} and {@code admin.listen}.
 *
 * <p>The host is an IP literal or a name, IPv6 without its brackets: {@code [::]:8080} is host
 * {@code ::} and port 8080. Port 0 asks the system for a free port, which is what tests use.
 *
 * @param host the IP literal or host name, never bracketed
 * @param port 0..65535
 */
public record HostPort(String host, int port) {

    private static final IpAddress ANY_IPV4 = IpAddress.parse("0.0.0.0");
    private static final IpAddress ANY_IPV6 = IpAddress.parse("::");

    public HostPort {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host (expected: an IP address or host name)");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port " + port + " is out of range (expected: 0..65535)");
        }
    }

    /**
     * Parses {@code host:port}, IPv6 hosts in brackets: {@code 0.0.0.0:8080}, {@code [::]:8080}, {@code localhost:0}.
     *
     * @throws IllegalArgumentException with a message showing the value and what was expected
     */
    public static HostPort parse(String text) {
        try {
            return split(text, -1, 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ConfigValues.quote(text) + " is not a valid address (expected: "
                    + e.getMessage() + ", e.g. 0.0.0.0:8080 or [::]:8080)");
        }
    }

    /**
     * Splits {@code host[:port]}; the exception message is only the bare "expected" part, for the caller to frame.
     *
     * @param defaultPort the port when none is written, or -1 when the port is required
     * @param minPort the smallest acceptable port
     */
    static HostPort split(String text, int defaultPort, int minPort) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            host = close < 0 ? "" : text.substring(1, close);
            if (host.indexOf(':') < 0 || IpAddress.parseOrNull(host, 0, host.length()) == null) {
                throw new IllegalArgumentException("an IPv6 address in brackets");
            }
            String rest = text.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw new IllegalArgumentException("host:port");
            }
            port = rest.isEmpty() ? null : rest.substring(1);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon != text.indexOf(':')) {
                throw new IllegalArgumentException("an IPv6 address in brackets");
            }
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
            if (port == null && defaultPort < 0) {
                throw new IllegalArgumentException("host:port");
            }
            if (!isHostName(host)) {
                throw new IllegalArgumentException("an IP address or host name");
            }
        }
        if (port == null) {
            if (defaultPort < 0) {
                throw new IllegalArgumentException("host:port");
            }
            return new HostPort(host, defaultPort);
        }
        int number = parsePort(port, minPort);
        return new HostPort(host, number);
    }

    /** The address to bind; resolves the host only if it is a name rather than an IP literal. */
    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** Whether binding both would collide: same non-zero port, and same host or either host the wildcard. */
    boolean conflictsWith(HostPort other) {
        if (port == 0 || port != other.port) {
            return false;
        }
        return isWildcard(host) || isWildcard(other.host) || ipOrName(host).equals(ipOrName(other.host));
    }

    /** {@code host:port}, with IPv6 hosts in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static int parsePort(String text, int minPort) {
        int port = text.length() <= 5 && ConfigValues.isInteger(text) && !text.startsWith("-")
                ? Integer.parseInt(text)
                : -1;
        if (port < minPort || port > 65_535) {
            throw new IllegalArgumentException("a port " + minPort + "..65535");
        }
        return port;
    }

    private static boolean isHostName(String host) {
        if (host.isEmpty() || host.startsWith(".") || host.startsWith("-")) {
            return false;
        }
        boolean numeric = true;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            boolean digit = c >= '0' && c <= '9';
            if (!letter && !digit && c != '.' && c != '-' && c != '_') {
                return false;
            }
            numeric &= digit || c == '.';
        }
        // All digits and dots is meant as an IPv4 address, so it has to be a valid one.
        return !numeric || IpAddress.parseOrNull(host, 0, host.length()) != null;
    }

    private static boolean isWildcard(String host) {
        IpAddress address = IpAddress.parseOrNull(host, 0, host.length());
        return address != null && (address.equals(ANY_IPV4) || address.equals(ANY_IPV6));
    }

    private static Object ipOrName(String host) {
        IpAddress address = IpAddress.parseOrNull(host, 0, host.length());
        return address != null ? address : host.toLowerCase(Locale.ROOT);
    }
}
