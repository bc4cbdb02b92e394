package dev.portcullis.server.it.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A raw-socket HTTP/1.1 client that sends exact bytes and reads responses, with a read timeout on
 * every operation so that no test can hang on it.
 */
public final class RawHttp implements AutoCloseable {

    /** Default read timeout for every blocking read. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = socket.getOutputStream();
    }

    /** Connects to 127.0.0.1:{@code port}. */
    public static RawHttp connect(int port) throws IOException {
        return connect(port, -1);
    }

    /** Connects to 127.0.0.1:{@code port}, with a receive buffer of {@code receiveBuffer} bytes if positive. */
    public static RawHttp connect(int port, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.setSoTimeout((int) READ_TIMEOUT.toMillis());
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        return new RawHttp(s);
    }

    /**
     * Connects from local address {@code from} to {@code to}:{@code port}: other loopback addresses (127.0.0.2, ...)
     * stand for other peers, e.g. a trusted proxy and an untrusted client of one gateway.
     */
    public static RawHttp connect(String from, String to, int port) throws IOException {
        Socket s = new Socket();
        s.setSoTimeout((int) READ_TIMEOUT.toMillis());
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress(InetAddress.getByName(to), port), 5_000);
        return new RawHttp(s);
    }

    /** Sends {@code data} as ISO-8859-1 bytes (so every char below 256 is one byte). */
    public RawHttp send(String data) throws IOException {
        return send(data.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends exact bytes. */
    public RawHttp send(byte[] data) throws IOException {
        out.write(data);
        out.flush();
        return this;
    }

    /** Reads one response (a 1xx is returned on its own); the body is read per its framing. */
    public RawResponse readResponse() throws IOException {
        return readResponse(false);
    }

    /** Reads one response to a HEAD request (headers only) when {@code head} is true. */
    public RawResponse readResponse(boolean head) throws IOException {
        String statusLine = Wire.readLine(in);
        if (statusLine == null) {
            throw new EOFException("the connection was closed before a response arrived");
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not a status line: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        String reason = parts.length > 2 ? parts[2] : "";
        List<Header> headers = Wire.readHeaders(in);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean noBody = head || status / 100 == 1 || status == 204 || status == 304;
        if (!noBody) {
            if (Wire.hasToken(headers, "Transfer-Encoding", "chunked")) {
                Wire.readChunked(in, body);
            } else {
                Optional<String> cl = Header.first(headers, "Content-Length");
                if (cl.isPresent()) {
                    Wire.readFixed(in, Long.parseLong(cl.get().trim()), body);
                } else {
                    Wire.readToEof(in, body);
                }
            }
        }
        return new RawResponse(statusLine, status, reason, List.copyOf(headers), body.toByteArray());
    }

    /** Reads a response head only, leaving the body on the socket for {@link #inputStream()}. */
    public RawResponse readHead() throws IOException {
        String statusLine = Wire.readLine(in);
        if (statusLine == null) {
            throw new EOFException("the connection was closed before a response arrived");
        }
        String[] parts = statusLine.split(" ", 3);
        List<Header> headers = Wire.readHeaders(in);
        return new RawResponse(statusLine, Integer.parseInt(parts[1]), parts.length > 2 ? parts[2] : "",
                List.copyOf(headers), new byte[0]);
    }

    /** The buffered input of this connection (for reading a large body by hand). */
    public InputStream inputStream() {
        return in;
    }

    /** What a connection did during a wait. */
    public enum State {
        /** EOF or reset. */
        CLOSED,
        /** Bytes arrived (they are not consumed). */
        DATA,
        /** Nothing happened. */
        OPEN
    }

    /**
     * Waits up to {@code within} for the peer to close the connection or send something. Bytes that
     * arrive are left unread.
     */
    public State await(Duration within) throws IOException {
        int old = socket.getSoTimeout();
        try {
            socket.setSoTimeout((int) Math.max(1, within.toMillis()));
            in.mark(1);
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                return State.OPEN;
            } catch (SocketException e) {
                return State.CLOSED; // reset by peer
            }
            if (b < 0) {
                return State.CLOSED;
            }
            in.reset();
            return State.DATA;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout(old);
            }
        }
    }

    /**
     * Waits up to {@code within} for the peer to close the connection. True when EOF or a reset is seen;
     * false when the connection stays open (or more data arrives) for the whole period.
     */
    public boolean awaitClosed(Duration within) throws IOException {
        return await(within) == State.CLOSED;
    }

    /** Changes the read timeout. */
    public void readTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** Sends one request and reads its response on a fresh connection. */
    public static RawResponse exchange(int port, String request) throws IOException {
        try (RawHttp raw = connect(port)) {
            return raw.send(request).readResponse(request.startsWith("HEAD "));
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** A response read off the wire. */
    public record RawResponse(String statusLine, int status, String reason, List<Header> headers, byte[] body) {

        public Optional<String> header(String name) {
            return Header.first(headers, name);
        }

        public List<String> headerValues(String name) {
            return Header.all(headers, name);
        }

        public boolean hasHeader(String name) {
            return header(name).isPresent();
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The tokens of every Connection header, lower case. */
        public List<String> connectionTokens() {
            return headerValues("Connection").stream()
                    .flatMap(v -> java.util.Arrays.stream(v.split(",")))
                    .map(t -> t.trim().toLowerCase(Locale.ROOT))
                    .filter(t -> !t.isEmpty())
                    .toList();
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(statusLine).append('\n');
            for (Header h : headers) {
                sb.append(h).append('\n');
            }
            sb.append('\n');
            String text = bodyText();
            sb.append(text.length() > 500 ? text.substring(0, 500) + "..." : text);
            return sb.toString();
        }
    }
}
