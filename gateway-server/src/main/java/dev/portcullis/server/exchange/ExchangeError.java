package dev.portcullis.server.exchange;

/** What went wrong with an exchange after its decision: the stable code the decision log shows as {@code error}. */
public enum ExchangeError {
    CLIENT_CLOSED("client_closed"),
    CLIENT_STALLED("client_stalled"),
    UPSTREAM_UNREACHABLE("upstream_unreachable"),
    UPSTREAM_POOL_EXHAUSTED("upstream_pool_exhausted"),
    UPSTREAM_TIMEOUT("upstream_timeout"),
    UPSTREAM_CLOSED("upstream_closed"),
    UPSTREAM_ERROR("upstream_error"),
    UPSTREAM_CLOSED_MID_RESPONSE("upstream_closed_mid_response"),
    UPSTREAM_ERROR_MID_RESPONSE("upstream_error_mid_response"),
    UPSTREAM_STALLED("upstream_stalled"),
    UPSTREAM_MALFORMED_RESPONSE("upstream_malformed_response"),
    UPSTREAM_PROTOCOL_SWITCH("upstream_protocol_switch"),
    BODY_TIMEOUT("body_timeout"),
    BODY_TOO_LARGE("body_too_large"),
    MALFORMED_BODY("malformed_body"),
    TUNNEL_IDLE("tunnel_idle"),
    /** drain_timeout ended with the exchange in flight: answered 503 or 504, or cut when its response had started. */
    DRAIN_TIMEOUT("drain_timeout");

    private final String code;

    ExchangeError(String code) {
        this.code = code;
    }

    /** The snake_case code of the decision log. */
    public String code() {
        return code;
    }
}
