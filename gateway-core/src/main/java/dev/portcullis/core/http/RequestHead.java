package dev.portcullis.core.http;

import java.util.Locale;

/** How the gateway reads the method and Host of a request head, shared by the server and the offline commands. */
public final class RequestHead {
    private RequestHead() {}

    /** Upper-case letters, {@code -} and {@code _}, as nginx accepts in a method (SPEC 3.6: anything else is 400). */
    public static boolean isUpperCaseToken(String method) {
        if (method.isEmpty()) {
            return false;
        }
        for (int i = 0; i < method.length(); i++) {
            char c = method.charAt(i);
            if (!(c >= 'A' && c <= 'Z') && c != '-' && c != '_') {
                return false;
            }
        }
        return true;
    }

    /** The Host as policies see it: port removed, lower case; allocates only when it changes the text. */
    public static String policyHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.indexOf(':') == colon) {
                host = host.substring(0, colon);
            }
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return host.toLowerCase(Locale.ROOT);
            }
        }
        return host;
    }
}
