package dev.portcullis.server.it.support;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * A faulty Redis on a loopback port for the store's failure tests: it speaks enough RESP for the gateway's
 * handshake (AUTH, SELECT, SCRIPT LOAD) and its EVALSHA / EVAL, and answers each connection as its {@link Mode}
 * says (chosen by the connection's number, from 1), one thread per connection.
 */
public final class FakeRedis implements AutoCloseable {

    /** How a connection answers. */
    public enum Mode {
        /** Every token request limited, with a 5 s wait. */
        DENY,
        /** The handshake is answered, token requests never (a frozen Redis, a partition without a reset). */
        SILENT_AFTER_HANDSHAKE,
        /** Nothing is answered, not even the handshake. */
        SILENT,
        /** A token request's answer is cut off: half of it written, then the connection closed. */
        CLOSE_MID_ANSWER,
        /** A token request is answered by a 300 MB bulk string, written 1 MB at a time (64 MB at most). */
        HUGE_ANSWER,
        /** Token requests are answered {@code -READONLY} (a primary demoted by a failover). */
        READONLY,
        /** Token requests are answered {@code -ERR boom}. */
        ERROR
    }

    private static final long HUGE_CAP_BYTES = 64L << 20;

    private final ServerSocket server;
    private final IntFunction<Mode> modes;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger tokenRequests = new AtomicInteger();
    private final AtomicLong hugeBytesWritten = new AtomicLong();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    private FakeRedis(ServerSocket server, IntFunction<Mode> modes) {
        this.server = server;
        this.modes = modes;
        this.acceptor = new Thread(this::accept, "fake-redis-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Starts one on a free loopback port; connection n (from 1) answers as {@code modes.apply(n)}. */
    public static FakeRedis start(IntFunction<Mode> modes) throws IOException {
        return new FakeRedis(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), modes);
    }

    /** {@code redis://127.0.0.1:<port>/0}. */
    public String url() {
        return "redis://127.0.0.1:" + server.getLocalPort() + "/0";
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    /** EVALSHA and EVAL commands received so far. */
    public int tokenRequests() {
        return tokenRequests.get();
    }

    /** Bytes of huge answers written so far (before the gateway closed the connection). */
    public long hugeBytesWritten() {
        return hugeBytesWritten.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                Mode mode = modes.apply(connections.incrementAndGet());
                Thread t = new Thread(() -> serve(socket, mode), "fake-redis-" + connections.get());
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket, Mode mode) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            List<byte[]> command;
            while ((command = read(in)) != null) {
                if (!answer(command, mode, out)) {
                    return;
                }
                out.flush();
            }
        } catch (IOException gone) {
            // the gateway closed the connection
        }
    }

    /** Answers one command; false when the connection is to be closed. */
    private boolean answer(List<byte[]> command, Mode mode, OutputStream out) throws IOException {
        String name = new String(command.get(0), StandardCharsets.US_ASCII).toUpperCase(java.util.Locale.ROOT);
        if (mode == Mode.SILENT) {
            return true;
        }
        switch (name) {
            case "AUTH", "SELECT" -> write(out, "+OK\r\n");
            case "PING" -> write(out, "+PONG\r\n");
            case "SCRIPT" -> {
                String sha = sha1(command.get(2));
                write(out, "$" + sha.length() + "\r\n" + sha + "\r\n");
            }
            case "EVALSHA", "EVAL" -> {
                tokenRequests.incrementAndGet();
                return answerTokenRequest(mode, out);
            }
            default -> write(out, "-ERR unknown command\r\n");
        }
        return true;
    }

    private boolean answerTokenRequest(Mode mode, OutputStream out) throws IOException {
        switch (mode) {
            case DENY -> write(out, "*2\r\n:0\r\n:5000000\r\n");
            case READONLY -> write(out, "-READONLY You can't write against a read only replica.\r\n");
            case ERROR -> write(out, "-ERR boom\r\n");
            case CLOSE_MID_ANSWER -> {
                write(out, "*2\r\n:1\r\n");
                out.flush();
                return false;
            }
            case HUGE_ANSWER -> {
                write(out, "$300000000\r\n");
                byte[] chunk = new byte[1 << 20];
                java.util.Arrays.fill(chunk, (byte) 'a');
                while (hugeBytesWritten.get() < HUGE_CAP_BYTES) {
                    out.write(chunk);
                    hugeBytesWritten.addAndGet(chunk.length);
                }
                return false;
            }
            default -> {
                // SILENT_AFTER_HANDSHAKE: read, never answered
            }
        }
        return true;
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** One command, an array of bulk strings; null at the end of the stream. */
    private static @Nullable List<byte[]> read(InputStream in) throws IOException {
        String head = line(in);
        if (head == null) {
            return null;
        }
        if (!head.startsWith("*")) {
            throw new IOException("not a command: " + head);
        }
        int count = Integer.parseInt(head.substring(1));
        List<byte[]> parts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String bulk = line(in);
            if (bulk == null || !bulk.startsWith("$")) {
                throw new IOException("not a bulk string: " + bulk);
            }
            byte[] part = in.readNBytes(Integer.parseInt(bulk.substring(1)));
            in.readNBytes(2);
            parts.add(part);
        }
        return parts;
    }

    private static @Nullable String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\r') {
                in.read();
                return sb.toString();
            }
            sb.append((char) c);
        }
        return null;
    }

    private static String sha1(byte[] script) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(script));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops accepting and closes every connection. */
    @Override
    public void close() throws Exception {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
        acceptor.join(5_000);
    }
}
