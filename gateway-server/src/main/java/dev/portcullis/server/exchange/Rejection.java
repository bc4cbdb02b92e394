package dev.portcullis.server.exchange;

/**
 * Why the gateway answered a request before (or instead of) any rule: the status it answers and the
 * stable reason code the decision log shows.
 */
public enum Rejection {
    NO_CONFIG_LOADED(503, "no_config_loaded"),
    SHUTTING_DOWN(503, "shutting_down"),
    URI_TOO_LONG(414, "uri_too_long"),
    HEADERS_TOO_LARGE(431, "headers_too_large"),
    MESSAGE_TOO_LARGE(400, "message_too_large"),
    MALFORMED_REQUEST(400, "malformed_request"),
    AMBIGUOUS_FRAMING(400, "ambiguous_framing"),
    BAD_TRANSFER_ENCODING(400, "bad_transfer_encoding"),
    BAD_CONTENT_LENGTH(400, "bad_content_length"),
    BAD_CONNECTION_HEADER(400, "bad_connection_header"),
    UNSUPPORTED_HTTP_VERSION(400, "unsupported_http_version"),
    BAD_METHOD(400, "bad_method"),
    METHOD_NOT_ALLOWED(405, "method_not_allowed"),
    BODY_NOT_ALLOWED(400, "body_not_allowed"),
    BODY_TOO_LARGE(413, "body_too_large"),
    BAD_HOST_HEADER(400, "bad_host_header"),
    AMBIGUOUS_AUTHORIZATION(400, "ambiguous_authorization"),
    AMBIGUOUS_HEADER(400, "ambiguous_header"),
    HEADER_TIMEOUT(408, "header_timeout");

    private final int status;
    private final String code;

    Rejection(int status, String code) {
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
