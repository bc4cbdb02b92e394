package dev.portcullis.server.exchange;

import dev.portcullis.core.policy.AuditOutcome;
import dev.portcullis.core.policy.Decision;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.http.LoggedPath;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One request/response exchange on a client connection: what the access log line reports.
 *
 * <p>Mutable, but confined to the client channel's event loop.
 */
public final class Exchange {
    private final String requestId;
    private long startNanos;
    private final ConnectionState connection;
    private final String method;
    private String path;
    private String host = "";
    private @Nullable String clientIp;
    private @Nullable String subject;
    private @Nullable String country;
    private @Nullable Decision decision;
    private @Nullable String reason;
    private @Nullable ExchangeError error;
    private int status;
    private int upstreamStatus;
    private long bytesOut;
    private long upstreamStartNanos;
    private long upstreamNanos = -1;
    private boolean finished;
    private @Nullable GatewaySnapshot snapshot;
    private boolean http10;
    private List<String> removedHeaders = List.of();
    private boolean hasBody;
    private @Nullable String webSocketKey;

    Exchange(ConnectionState connection, String requestId, String method, String rawPath) {
        this.connection = connection;
        this.requestId = requestId;
        this.method = method;
        // until the target is canonicalized, log the raw target without query, fragment or userinfo (secrets)
        this.path = LoggedPath.of(rawPath);
        this.startNanos = System.nanoTime();
    }

    /** Its request began at {@code nanos}, before the exchange was made (a 408 answers a head begun earlier). */
    void startedAt(long nanos) {
        startNanos = nanos;
    }

    /** The config generation deciding this exchange, read once when its head arrived. */
    public GatewaySnapshot snapshot() {
        if (snapshot == null) {
            throw new IllegalStateException("exchange has no snapshot yet");
        }
        return snapshot;
    }

    /** The generation deciding this exchange, or null before its head was admitted (or when it never was). */
    public @Nullable GatewaySnapshot snapshotIfAny() {
        return snapshot;
    }

    /**
     * Sets the generation deciding this exchange, which the caller {@linkplain GatewaySnapshot#tryAcquire() took};
     * the exchange releases it in {@link #finish}, or earlier in {@link #releaseSnapshot}.
     */
    public void snapshot(GatewaySnapshot snapshot) {
        if (this.snapshot != null) {
            throw new IllegalStateException("exchange already has a snapshot");
        }
        this.snapshot = snapshot;
    }

    /** Override headers (method or URL) that were removed from the request before it was decided; usually empty. */
    public List<String> removedHeaders() {
        return removedHeaders;
    }

    public void removedHeaders(List<String> names) {
        this.removedHeaders = List.copyOf(names);
    }

    /** True when the client spoke HTTP/1.0 (no chunked responses, keep-alive only on request). */
    public boolean http10() {
        return http10;
    }

    public void http10(boolean http10) {
        this.http10 = http10;
    }

    /** True when the request announced a body (a positive {@code Content-Length}, or chunked). */
    public boolean hasBody() {
        return hasBody;
    }

    public void hasBody(boolean hasBody) {
        this.hasBody = hasBody;
    }

    /**
     * The {@code Sec-WebSocket-Key} of a request that asked for a WebSocket upgrade, which may be tunnelled if the
     * upstream accepts that key; null for any other request.
     */
    public @Nullable String webSocketKey() {
        return webSocketKey;
    }

    public void webSocketKey(String key) {
        this.webSocketKey = key;
    }

    public String requestId() {
        return requestId;
    }

    public String method() {
        return method;
    }

    public String path() {
        return path;
    }

    public void path(String canonical) {
        this.path = canonical;
    }

    public String host() {
        return host;
    }

    public void host(String host) {
        this.host = host;
    }

    public @Nullable String clientIp() {
        return clientIp;
    }

    public void clientIp(String clientIp) {
        this.clientIp = clientIp;
    }

    /** The client's GeoIP country, or null when GeoIP is not configured (or no decision was made). */
    public @Nullable String country() {
        return country;
    }

    public void country(@Nullable String country) {
        this.country = country;
    }

    /** The identity's subject, or null for an anonymous request. */
    public @Nullable String subject() {
        return subject;
    }

    public void subject(String subject) {
        this.subject = subject;
    }

    public @Nullable Decision decision() {
        return decision;
    }

    public void decision(Decision decision) {
        this.decision = decision;
    }

    /** The reason the gateway rejected the request before (or instead of) any rule, e.g. {@code ambiguous_framing}. */
    public @Nullable String reason() {
        return reason != null ? reason : decision != null ? decision.reason() : null;
    }

    public void reason(String reason) {
        this.reason = reason;
    }

    /** What went wrong after the decision (upstream unreachable, timed out, closed, body too large), or null. */
    public @Nullable ExchangeError error() {
        return error;
    }

    /** Records what went wrong; the first error of an exchange is the one reported. */
    public void error(ExchangeError error) {
        if (this.error == null) {
            this.error = error;
        }
    }

    public @Nullable String rule() {
        return decision != null ? decision.rule() : null;
    }

    public @Nullable String decisionLabel() {
        if (decision != null && reason == null) {
            return decision.allowed() ? "allow" : "deny";
        }
        return reason != null ? "deny" : null;
    }

    public List<AuditOutcome> audit() {
        return decision != null ? decision.audit() : List.of();
    }

    public int status() {
        return status;
    }

    public void status(int status) {
        this.status = status;
    }

    public int upstreamStatus() {
        return upstreamStatus;
    }

    public void upstreamStatus(int status) {
        this.upstreamStatus = status;
    }

    public long bytesOut() {
        return bytesOut;
    }

    public void bytesOut(long bytes) {
        this.bytesOut = bytes;
    }

    public void addBytesOut(long bytes) {
        this.bytesOut += bytes;
    }

    public long durationNanos() {
        return System.nanoTime() - startNanos;
    }

    /** The request head is being written to an upstream connection: the upstream's time starts. */
    public void upstreamStarted() {
        upstreamStartNanos = System.nanoTime();
    }

    /** The upstream's response ended (or failed): its time stops. */
    public void upstreamEnded() {
        if (upstreamStartNanos != 0 && upstreamNanos < 0) {
            upstreamNanos = System.nanoTime() - upstreamStartNanos;
        }
    }

    /** Nanoseconds from writing the request upstream to the end of its response; -1 when never proxied. */
    public long upstreamNanos() {
        return upstreamNanos;
    }

    public boolean isFinished() {
        return finished;
    }

    /**
     * Lets go of the generation before the exchange finishes, once nothing of it is needed any more (a WebSocket
     * tunnel copied what it uses): a reload then need not keep that generation's resources alive for the tunnel's
     * life. Once only, together with {@link #finish}; {@link #snapshot()} fails afterwards.
     */
    public void releaseSnapshot() {
        GatewaySnapshot held = snapshot;
        snapshot = null;
        if (held != null) {
            held.release();
        }
    }

    /** Marks the response complete: tells the listeners (access log, metrics) once and frees the connection. */
    public void finish() {
        if (finished) {
            return;
        }
        finished = true;
        upstreamEnded();
        try {
            connection.exchangeFinished(this);
        } finally {
            releaseSnapshot();
        }
    }
}
