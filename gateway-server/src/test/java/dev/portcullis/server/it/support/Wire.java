package dev.portcullis.server.it.support;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Small HTTP/1.1 wire helpers shared by the raw client and the test upstream (no validation beyond framing). */
final class Wire {

    static final int MAX_LINE = 1024 * 1024;

    private Wire() {}

    /**
     * Reads one line terminated by LF (a preceding CR is dropped), as ISO-8859-1. Returns null on EOF
     * before any byte.
     */
    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int c;
        boolean any = false;
        while ((c = in.read()) != -1) {
            any = true;
            if (c == '\n') {
                byte[] b = line.toByteArray();
                int len = b.length;
                if (len > 0 && b[len - 1] == '\r') {
                    len--;
                }
                return new String(b, 0, len, StandardCharsets.ISO_8859_1);
            }
            line.write(c);
            if (line.size() > MAX_LINE) {
                throw new IOException("line too long");
            }
        }
        if (!any) {
            return null;
        }
        throw new EOFException("EOF in the middle of a line: " + line.toString(StandardCharsets.ISO_8859_1));
    }

    /** Reads header lines up to the empty line. */
    static List<Header> readHeaders(InputStream in) throws IOException {
        List<Header> headers = new ArrayList<>();
        while (true) {
            String line = readLine(in);
            if (line == null) {
                throw new EOFException("EOF inside the header block");
            }
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header line: " + line);
            }
            headers.add(new Header(line.substring(0, colon), line.substring(colon + 1).trim()));
        }
    }

    /** Reads exactly {@code n} bytes into {@code sink}. */
    static void readFixed(InputStream in, long n, OutputStream sink) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int k = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (k < 0) {
                throw new EOFException("EOF with " + left + " of " + n + " body bytes missing");
            }
            sink.write(buf, 0, k);
            left -= k;
        }
    }

    /** Decodes a chunked body into {@code sink}; returns the trailer fields. */
    static List<Header> readChunked(InputStream in, OutputStream sink) throws IOException {
        while (true) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                throw new EOFException("EOF before a chunk size");
            }
            int semi = sizeLine.indexOf(';');
            String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
            long size = Long.parseLong(hex, 16);
            if (size == 0) {
                return readHeaders(in);
            }
            readFixed(in, size, sink);
            String crlf = readLine(in);
            if (crlf == null || !crlf.isEmpty()) {
                throw new IOException("missing CRLF after a chunk");
            }
        }
    }

    /** Reads until EOF into {@code sink}. */
    static void readToEof(InputStream in, OutputStream sink) throws IOException {
        byte[] buf = new byte[64 * 1024];
        int k;
        while ((k = in.read(buf)) >= 0) {
            sink.write(buf, 0, k);
        }
    }

    static boolean hasToken(List<Header> headers, String name, String token) {
        for (String v : Header.all(headers, name)) {
            for (String t : v.split(",")) {
                if (t.trim().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }
}
