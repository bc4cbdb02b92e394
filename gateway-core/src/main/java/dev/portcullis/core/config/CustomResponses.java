package dev.portcullis.core.config;

import java.util.Arrays;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The compiled {@code responses} section: bodies that replace the generic JSON of gateway-made answers,
 * read when the config was loaded.
 */
public final class CustomResponses {
    /** No {@code responses} section: every answer has the generic JSON body. */
    public static final CustomResponses NONE = new CustomResponses(Map.of());

    /** The statuses the gateway answers itself (SPEC 3.6), which a custom body may replace. */
    static final int[] GATEWAY_STATUSES = {400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 502, 503, 504};

    /**
     * One replacement body.
     *
     * @param contentType its {@code Content-Type}
     * @param body its bytes
     */
    public record Body(String contentType, byte[] body) {
        public Body {
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        /** The bytes without a copy, for the server to wrap; never modified. */
        public byte[] bytes() {
            return body;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Body that && contentType.equals(that.contentType) && Arrays.equals(body, that.body);
        }

        @Override
        public int hashCode() {
            return 31 * contentType.hashCode() + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Body[" + contentType + ", " + body.length + " bytes]";
        }
    }

    private final Body[] byStatus = new Body[600];

    CustomResponses(Map<Integer, Body> bodies) {
        bodies.forEach((status, body) -> byStatus[status] = body);
    }

    /** The body replacing the generic one for {@code status}, or null. */
    public @Nullable Body forStatus(int status) {
        return status >= 0 && status < byStatus.length ? byStatus[status] : null;
    }

    static boolean isGatewayStatus(int status) {
        for (int known : GATEWAY_STATUSES) {
            if (known == status) {
                return true;
            }
        }
        return false;
    }
}
