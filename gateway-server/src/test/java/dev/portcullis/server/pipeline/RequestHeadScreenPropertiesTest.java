package dev.portcullis.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.config.Limits;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;
import org.jspecify.annotations.Nullable;

/**
 * No request head is both accepted by the gateway (its strict codec, then {@link RequestScreen}) and framed
 * differently by a second, independent, strict RFC 9112 parser written here: when both accept a head, they agree on
 * its method, target, body framing (none, a length, or chunked) and where the next request on the connection starts. Heads are generated valid and mutated:
 * duplicated, padded, obs-folded and misspelt framing headers, odd Transfer-Encoding lists, bare LF and CR.
 */
class RequestHeadScreenPropertiesTest {

    private static final Limits LIMITS =
            new Limits(8 * 1024, 16 * 1024, 1L << 40, Duration.ofSeconds(10), Duration.ofSeconds(60), 100, true);

    /**
     * How the first request is read: its method, target and body framing (a length, or -1 when chunked), and where the
     * next request starts: its target, {@code ""} when nothing complete follows, {@code "?"} when what follows the
     * body is not a request (or the chunked body is broken).
     */
    record Framing(String method, String target, boolean chunked, long length, String next) {}

    // ---- generation ------------------------------------------------------------------------------------------

    @Provide
    Arbitrary<String> heads() {
        Arbitrary<String> requestLine = Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.of("POST", "GET", "PUT", "PATCH", "DELETE", "OPTIONS")
                        .map(m -> m + " /a HTTP/1.1")),
                Tuple.of(1, Arbitraries.of("POST /a HTTP/1.0", "POST\t/a HTTP/1.1", "POST /a\tHTTP/1.1",
                        "POST  /a HTTP/1.1", "POST /a HTTP/1.1 ", " POST /a HTTP/1.1", "POST /a HTTP/1.2",
                        "POST /a HTTP/2.0", "POST /a", "POST /a b HTTP/1.1", "POST http://h/a HTTP/1.1")));
        Arbitrary<String> eol = Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.just("\r\n")), Tuple.of(1, Arbitraries.of("\n", "\r", "\r\r\n")));
        Arbitrary<String> header = Combinators.combine(names(), separators(), values(), folds(), eol)
                .as((name, separator, value, fold, end) -> name + separator + value + fold + end);
        Arbitrary<List<String>> headers = header.list().ofMaxSize(4);
        Arbitrary<String> host = Arbitraries.of("Host: h\r\n", "Host: h\r\n", "Host: h\r\n", "", "Host: h\r\nHost: h\r\n");
        Arbitrary<String> tail = Arbitraries.of("", "hello", "0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n",
                "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "helloGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
        Arbitrary<String> headEnd = Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.just("\r\n")), Tuple.of(1, Arbitraries.of("\n", "\r\n\r\n")));
        return Combinators.combine(requestLine, eol, host, headers, headEnd, tail)
                .as((line, end, h, hs, e, t) -> line + end + h + String.join("", hs) + e + t);
    }

    private static Arbitrary<String> names() {
        return Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.of("Content-Length", "Transfer-Encoding", "content-length",
                        "TRANSFER-ENCODING", "X-Other")),
                Tuple.of(2, Arbitraries.of("Transfer_Encoding", "Content_Length", "Content-Length ",
                        " Transfer-Encoding", "\tContent-Length", "Transfer-Encoding\t", "Transfer--Encoding",
                        "Content-Lengths", "Transfer Encoding", "Content-Length\u0000", "Transf\u00e9r-Encoding")));
    }

    private static Arbitrary<String> separators() {
        return Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.of(": ", ":")),
                Tuple.of(1, Arbitraries.of(":\t", ":  ", " : ", "::", "= ")));
    }

    private static Arbitrary<String> values() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("5", "0", "chunked", "gzip, chunked")),
                Tuple.of(4, Arbitraries.of("Chunked", "CHUNKED", "chunked ", " chunked", "chunked\t", "5 ", "05",
                        "+5", "-1", "5,5", "5, 5", "5, 6", "0x5", "", " ", "99999999999999999999", "5.0",
                        "chunked, chunked", "chunked, gzip", "gzip,chunked", ", chunked", "chunked,", "gzip",
                        "identity", "identity, chunked", "x-custom, chunked", "chunked;q=1", "\"chunked\"",
                        "ch unked", "chunked\u000b", "br ,\tchunked", "deflate, gzip, chunked", "chunk\u00e9d")));
    }

    private static Arbitrary<String> folds() {
        return Arbitraries.frequencyOf(
                Tuple.of(20, Arbitraries.just("")),
                Tuple.of(1, Arbitraries.of("\r\n chunked", "\r\n\t5", "\r\n ")));
    }

    // ---- the property ----------------------------------------------------------------------------------------

    @Property(tries = 2000)
    @StatisticsReport(StatisticsReport.StatisticsReportMode.OFF)
    void noHeadIsAcceptedAndFramedDifferently(@ForAll("heads") String wire) {
        Framing gateway = gateway(wire);
        Framing reference = Rfc9112.frame(wire);

        String outcome = gateway == null ? "gateway rejects"
                : reference == null ? "gateway accepts, strict reference rejects" : "both accept";
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(c -> {
            c.check("both accept").percentage(p -> p > 5);
            c.check("gateway rejects").percentage(p -> p > 15);
        });
        // A head the strict reference rejects is not framed by it at all: a strict upstream answers 400, and the
        // gateway forwards a head it re-serializes itself. Every head both accept must be framed alike.
        Statistics.label("next request").collect(gateway == null ? "rejected" : gateway.next());
        Statistics.label("next request").coverage(c -> c.check("/smuggled").percentage(p -> p > 1));
        if (gateway != null && reference != null) {
            assertThat(reference).as("read by the gateway as %s, by RFC 9112 as %s:%n%s", gateway,
                    reference, printable(wire)).isEqualTo(gateway);
        }
    }

    /** The gateway's framing of the first request, or null when its codec or screen rejects the head. */
    private static @Nullable Framing gateway(String wire) {
        HttpDecoderConfig config = new HttpDecoderConfig()
                .setMaxInitialLineLength(LIMITS.maxUriLength() + 64)
                .setMaxHeaderSize(LIMITS.maxHeaderSize())
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
        EmbeddedChannel channel = new EmbeddedChannel(new StrictHttpServerCodec(config));
        try {
            channel.writeInbound(Unpooled.copiedBuffer(wire, StandardCharsets.ISO_8859_1));
            Object first = channel.readInbound();
            try {
                if (!(first instanceof HttpRequest request) || RequestScreen.check(request, LIMITS, List.of()) != null) {
                    return null;
                }
                boolean chunked = request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING);
                return new Framing(request.method().name(), request.uri(), chunked,
                        chunked ? -1 : HttpUtil.getContentLength(request, 0L),
                        next(channel, request instanceof LastHttpContent));
            } finally {
                ReferenceCountUtil.release(first);
            }
        } finally {
            Object rest;
            while ((rest = channel.readInbound()) != null) {
                ReferenceCountUtil.release(rest);
            }
            channel.finishAndReleaseAll();
        }
    }

    /**
     * What the codec reads after the first request's body: the next request's target, "" or "?".
     * {@code bodyDone}: the first request came as a full request (no body), so the next message starts the next one.
     */
    private static String next(EmbeddedChannel channel, boolean bodyDone) {
        if (!bodyDone) {
            String unfinished = skipBody(channel);
            if (unfinished != null) {
                return unfinished;
            }
        }
        Object second = channel.readInbound();
        try {
            if (second == null) {
                return "";
            }
            return second instanceof HttpRequest request && request.decoderResult().isSuccess() ? request.uri() : "?";
        } finally {
            ReferenceCountUtil.release(second);
        }
    }

    /** Reads the first request's body up to its last content: null then, else "" (no end yet) or "?" (broken). */
    private static @Nullable String skipBody(EmbeddedChannel channel) {
        Object message;
        while ((message = channel.readInbound()) != null) {
            try {
                if (!(message instanceof HttpContent content) || content.decoderResult().isFailure()) {
                    return "?";
                }
                if (content instanceof LastHttpContent) {
                    return null;
                }
            } finally {
                ReferenceCountUtil.release(message);
            }
        }
        return "";
    }

    private static String printable(String wire) {
        return wire.replace("\r", "\\r").replace("\n", "\\n\n").replace("\t", "\\t");
    }

    /**
     * A small, strict reader of an HTTP/1.1 request head (RFC 9112 sections 2-3, 5-7), independent of Netty: CRLF
     * line ends only (a bare CR replaced by SP, 2.2), single-space request line, token header names with the colon right after them, obs-fold
     * replaced by SP (5.2), and framing by section 6.3: Transfer-Encoding (all lines as one list) must end in a single chunked, after
     * known codings only, and may not come with Content-Length; Content-Length lines must all be the same digits.
     */
    static final class Rfc9112 {

        private static final Pattern REQUEST_LINE =
                Pattern.compile("([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\\x21-\\x7E]+) HTTP/1\\.([01])");
        private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
        private static final List<String> CODINGS =
                List.of("gzip", "x-gzip", "deflate", "compress", "x-compress", "br", "zstd");

        private Rfc9112() {}

        /** The framing of the first request on {@code wire}, or null when a strict server rejects its head. */
        static @Nullable Framing frame(String received) {
            // 2.2: a recipient may replace each bare CR with SP instead of rejecting the message
            StringBuilder replaced = new StringBuilder(received);
            for (int i = 0; i < replaced.length(); i++) {
                if (replaced.charAt(i) == '\r' && (i + 1 == replaced.length() || replaced.charAt(i + 1) != '\n')) {
                    replaced.setCharAt(i, ' ');
                }
            }
            String wire = replaced.toString();
            int end = wire.indexOf("\r\n\r\n");
            if (end < 0) {
                return null;
            }
            String head = wire.substring(0, end + 2);
            for (int i = 0; i < head.length(); i++) {
                char c = head.charAt(i);
                if (c == '\n' && (i == 0 || head.charAt(i - 1) != '\r')) {
                    return null; // bare LF
                }
            }
            List<String> lines = List.of(head.split("\r\n", -1));
            Matcher line = REQUEST_LINE.matcher(lines.get(0));
            if (!line.matches()) {
                return null;
            }
            List<String> fields = new ArrayList<>();
            for (String field : lines.subList(1, lines.size() - 1)) {
                boolean fold = !field.isEmpty() && (field.charAt(0) == ' ' || field.charAt(0) == '\t');
                if (fold && fields.isEmpty()) {
                    return null; // 2.2: whitespace between the start-line and the first field
                }
                if (fold) {
                    // 5.2: a server may replace an obs-fold with SP instead of rejecting the message
                    fields.set(fields.size() - 1, fields.get(fields.size() - 1) + " " + trimOws(field));
                } else {
                    fields.add(field);
                }
            }
            List<String> te = new ArrayList<>();
            List<String> cl = new ArrayList<>();
            for (String field : fields) {
                int colon = field.indexOf(':');
                if (colon <= 0 || !TOKEN.matcher(field.substring(0, colon)).matches()) {
                    return null; // also whitespace before the colon (5.1)
                }
                String value = trimOws(field.substring(colon + 1));
                for (int i = 0; i < value.length(); i++) {
                    char c = value.charAt(i);
                    if (c < 0x20 && c != '\t' || c == 0x7F) {
                        return null;
                    }
                }
                String name = field.substring(0, colon).toLowerCase(Locale.ROOT);
                if (name.equals("transfer-encoding")) {
                    te.add(value);
                } else if (name.equals("content-length")) {
                    cl.add(value);
                }
            }
            String method = line.group(1);
            String target = line.group(2);
            if (!te.isEmpty()) {
                if (!cl.isEmpty() || line.group(3).equals("0")) {
                    return null; // 6.3 item 3; 6.1: Transfer-Encoding in HTTP/1.0 is not to be trusted
                }
                return endsInOneChunked(String.join(",", te))
                        ? new Framing(method, target, true, -1, next(wire, chunkedEnd(wire, end + 4)))
                        : null;
            }
            if (!cl.isEmpty()) {
                String first = cl.get(0);
                for (String value : cl) {
                    if (!value.equals(first) || !value.matches("[0-9]{1,18}")) {
                        return null;
                    }
                }
                long length = Long.parseLong(first);
                int bodyEnd = end + 4 + length > wire.length() ? -1 : (int) (end + 4 + length);
                return new Framing(method, target, false, length, next(wire, bodyEnd));
            }
            return new Framing(method, target, false, 0, next(wire, end + 4));
        }

        /** Where a chunked body starting at {@code start} ends: -1 when incomplete, -2 when malformed (7.1). */
        private static int chunkedEnd(String wire, int start) {
            int pos = start;
            while (true) {
                int lineEnd = wire.indexOf("\r\n", pos);
                if (lineEnd < 0) {
                    return -1;
                }
                String size = wire.substring(pos, lineEnd);
                if (!size.matches("[0-9A-Fa-f]{1,8}")) {
                    return -2;
                }
                int n = Integer.parseInt(size, 16);
                if (n == 0) {
                    // no trailer fields are generated: the last chunk is followed by the final CRLF
                    if (wire.length() < lineEnd + 4) {
                        return -1;
                    }
                    return wire.startsWith("\r\n", lineEnd + 2) ? lineEnd + 4 : -2;
                }
                int dataEnd = lineEnd + 2 + n;
                if (wire.length() < dataEnd + 2) {
                    return -1;
                }
                if (!wire.startsWith("\r\n", dataEnd)) {
                    return -2;
                }
                pos = dataEnd + 2;
            }
        }

        /** The target of the request starting at {@code at}: "" when none is complete, "?" when it is no request. */
        private static String next(String wire, int start) {
            int at = start;
            if (at == -2) {
                return "?";
            }
            // RFC 9112 2.2: a server SHOULD ignore at least one empty line received before a request line
            while (at >= 0 && wire.startsWith("\r\n", at)) {
                at += 2;
            }
            if (at < 0 || wire.indexOf("\r\n\r\n", at) < 0) {
                return "";
            }
            Matcher line = REQUEST_LINE.matcher(wire.substring(at, wire.indexOf("\r\n", at)));
            return line.matches() ? line.group(2) : "?";
        }

        private static boolean endsInOneChunked(String list) {
            List<String> codings = new ArrayList<>();
            for (String element : list.split(",", -1)) {
                String coding = trimOws(element);
                if (!coding.isEmpty()) {
                    codings.add(coding.toLowerCase(Locale.ROOT));
                }
            }
            if (codings.isEmpty() || !codings.get(codings.size() - 1).equals("chunked")) {
                return false;
            }
            for (String coding : codings.subList(0, codings.size() - 1)) {
                if (!CODINGS.contains(coding)) {
                    return false; // chunked twice, or a coding this server does not know (501)
                }
            }
            return true;
        }

        private static String trimOws(String s) {
            int start = 0;
            int end = s.length();
            while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
                start++;
            }
            while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
                end--;
            }
            return s.substring(start, end);
        }
    }
}
