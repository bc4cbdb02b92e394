package dev.portcullis.core.ratelimit;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The validated {@code rate_limit_store.redis} section: where the shared buckets live and what a request gets when
 * the store cannot answer in time. Two equal settings share one connection across a reload.
 *
 * @param tls whether the URL is {@code rediss://}
 * @param host host name or IP literal (IPv6 without brackets)
 * @param port the written port, or 6379
 * @param database the database index from the URL path, or 0
 * @param username the ACL user from the URL's user info, or null
 * @param passwordEnv the environment variable holding the password, or null for none
 * @param timeout how long a request waits for the store at most
 * @param onError what a request gets when the store fails or is too slow
 */
public record SharedStoreSettings(boolean tls, String host, int port, int database, @Nullable String username,
        @Nullable String passwordEnv, Duration timeout, OnError onError) {

    /** The default {@code timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(50);

    private static final String EXAMPLE = "e.g. redis://127.0.0.1:6379/0";
    private static final int DEFAULT_PORT = 6379;

    /** What a request gets when the store fails or does not answer within {@code timeout} ({@code on_error}). */
    public enum OnError {
        /** Fail open: the request goes on, the failure is counted and logged. */
        ALLOW("allow"),
        /** Fail closed: 429 with {@code Retry-After: 1}. */
        DENY("deny");

        private final String code;

        OnError(String code) {
            this.code = code;
        }

        /** The spelling in the config. */
        public String code() {
            return code;
        }
    }

    /** Checks every field. */
    public SharedStoreSettings {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(onError, "onError");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout " + timeout + " is out of range (expected: a positive duration)");
        }
    }

    /**
     * The settings for a store URL {@code redis[s]://[user@]host[:port][/db]}.
     *
     * @throws IllegalArgumentException with a message showing the value and what was expected
     */
    public static SharedStoreSettings parse(String url, @Nullable String passwordEnv, Duration timeout,
            OnError onError) {
        int separator = url.indexOf("://");
        if (separator <= 0) {
            throw invalid(url, "redis://host[:port][/db] or rediss://..., " + EXAMPLE);
        }
        String scheme = url.substring(0, separator).toLowerCase(Locale.ROOT);
        if (!scheme.equals("redis") && !scheme.equals("rediss")) {
            throw invalid(url, "scheme redis or rediss, " + EXAMPLE);
        }
        int start = separator + 3;
        if (hasPassword(url, start)) {
            // before splitting at '/', '?' or '#', which a password may hold (base64 often has '/')
            throw invalid(url, "no password in the URL; name its environment variable in password_env");
        }
        int end = start;
        while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        String authority = url.substring(start, end);
        String rest = url.substring(end);
        String username = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at); // no ':' in it: refused above
            username = userInfo.isEmpty() ? null : userInfo;
            authority = authority.substring(at + 1);
        }
        if (rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
            throw invalid(url, "no query or fragment, " + EXAMPLE);
        }
        String host;
        int port = DEFAULT_PORT;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw invalid(url, "a closing ] after the IPv6 address, " + EXAMPLE);
            }
            host = authority.substring(1, close);
            String after = authority.substring(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(":")) {
                    throw invalid(url, "host[:port], " + EXAMPLE);
                }
                port = port(url, after.substring(1));
            }
        } else {
            int colon = authority.lastIndexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            if (colon >= 0) {
                port = port(url, authority.substring(colon + 1));
            }
            if (host.indexOf(':') >= 0) {
                throw invalid(url, "an IPv6 address in brackets, e.g. redis://[::1]:6379/0");
            }
        }
        if (host.isEmpty()) {
            throw invalid(url, "a host, " + EXAMPLE);
        }
        int database = 0;
        if (!rest.isEmpty() && !rest.equals("/")) {
            String db = rest.substring(1);
            if (db.isEmpty() || db.length() > 5 || !db.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw invalid(url, "a database number as the path, " + EXAMPLE);
            }
            database = Integer.parseInt(db);
        }
        checkPasswordEnv(passwordEnv);
        return new SharedStoreSettings(scheme.equals("rediss"), host, port, database, username, passwordEnv,
                timeout, onError);
    }

    /**
     * Checks {@code password_env} on its own, so that a config can report it next to a problem in the URL.
     *
     * @throws IllegalArgumentException when it is written but blank
     */
    public static void checkPasswordEnv(@Nullable String passwordEnv) {
        if (passwordEnv != null && passwordEnv.isBlank()) {
            throw new IllegalArgumentException(
                    "password_env \"" + passwordEnv + "\" is empty (expected: the name of an environment variable)");
        }
    }

    private static int port(String url, String text) {
        if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw invalid(url, "a port from 1 to 65535, " + EXAMPLE);
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw invalid(url, "a port from 1 to 65535, " + EXAMPLE);
        }
        return port;
    }

    private static IllegalArgumentException invalid(String url, String expected) {
        return new IllegalArgumentException(
                "\"" + redacted(url) + "\" is not a valid Redis URL (expected: " + expected + ")");
    }

    /**
     * {@code url} with what lies between the first {@code :} after the scheme and its last {@code @} shown as
     * {@code ***} when there is such a {@code :}, i.e. a password: a refused URL is shown in {@code check}'s output, a
     * rejected reload's answer and the log, which must never repeat a secret. The user name before that {@code :} is
     * no secret (a password cannot start before it) and stays, so that a refused URL still says whose it is. The last
     * {@code @}, not the authority's, because a password may hold {@code /}, {@code ?}, {@code #} or {@code @}.
     */
    static String redacted(String url) {
        int separator = url.indexOf("://");
        int start = separator < 0 ? 0 : separator + 3;
        if (!hasPassword(url, start)) {
            return url;
        }
        return url.substring(0, url.indexOf(':', start) + 1) + "***" + url.substring(url.lastIndexOf('@'));
    }

    /** True when the part of {@code url} from {@code start} to its last {@code @} holds a {@code :}. */
    private static boolean hasPassword(String url, int start) {
        int at = url.lastIndexOf('@');
        return at > start && url.lastIndexOf(':', at) >= start;
    }

    /** The URL without user info, for messages: {@code redis://host:port/db}. */
    public String address() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return (tls ? "rediss://" : "redis://") + h + ":" + port + "/" + database;
    }
}
