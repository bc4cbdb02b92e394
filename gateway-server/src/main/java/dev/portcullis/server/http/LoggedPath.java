package dev.portcullis.server.http;

/** What the access log shows of a request target that was not canonicalized: never a query, fragment or password. */
public final class LoggedPath {

    /*
     * A target the gateway rejects before canonicalizing it (bad escapes, ';', '#', an absolute-form whose
     * authority is not the Host, ...) is still logged, so that an operator can see what was refused. Its
     * query and fragment can carry credentials (?api_key=, #access_token= of the OAuth implicit flow), and
     * an absolute-form target can carry user:password@ in its authority: those are cut. What remains is
     * still attacker-chosen text; the JSON writer escapes it.
     */

    private LoggedPath() {}

    /** {@code rawTarget} without query, fragment and userinfo. */
    public static String of(String rawTarget) {
        int end = rawTarget.length();
        for (int i = 0; i < end; i++) {
            char c = rawTarget.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
            }
        }
        String target = rawTarget.substring(0, end);
        int scheme = target.indexOf("://");
        if (scheme < 0 || target.startsWith("/")) {
            return target;
        }
        int authority = scheme + 3;
        int slash = target.indexOf('/', authority);
        int authorityEnd = slash < 0 ? target.length() : slash;
        int at = target.lastIndexOf('@', authorityEnd - 1);
        if (at < authority) {
            return target;
        }
        return target.substring(0, authority) + target.substring(at + 1);
    }
}
