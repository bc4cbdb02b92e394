package dev.portcullis.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import dev.portcullis.bench.embedded.EmbeddedSocketChannel;
import dev.portcullis.bench.embedded.InMemoryUpstreamChannel;
import dev.portcullis.bench.embedded.LiteralAddressResolverGroup;
import dev.portcullis.core.config.ConfigLoader;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.core.runtime.SnapshotHolder;
import dev.portcullis.server.exchange.ServerContext;
import dev.portcullis.server.log.AccessLog;
import dev.portcullis.server.metrics.GatewayMetrics;
import dev.portcullis.server.pipeline.ProxyChannelInitializer;
import dev.portcullis.server.proxy.Upstreams;
import dev.portcullis.server.transport.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * The gateway's real client pipeline ({@link ProxyChannelInitializer}: head timeout, StrictHttpServerCodec,
 * serializer, admission and AccessControlHandler, ProxyFrontendHandler) on one keep-alive {@link EmbeddedSocketChannel},
 * under the full policy of issue 10 ({@link ProxyBenchFixtures}: RS256 JWT from a few cached tokens, 1,000 CIDRs,
 * GeoIP, a role rule), with the real upstream pool whose connection is an {@link InMemoryUpstreamChannel}. Each
 * {@link #exchange()} is one request in and one response out, all on the calling thread.
 *
 * <p>The exchange listeners are the server's own ({@link AccessLog} and {@link GatewayMetrics}); the
 * {@code portcullis.access} logger is pointed at an in-memory sink that counts lines, so an access line is rendered
 * and its logging event built, but no queue or stdout is involved.
 */
public final class RequestPathFixture implements AutoCloseable {

    private static final int DISTINCT_REQUESTS = 64;

    private final Path dir;
    private final ScheduledExecutorService scheduler;
    private final GatewaySnapshot snapshot;
    private final GatewayMetrics metrics;
    private final Upstreams upstreams;
    private final EmbeddedSocketChannel client;
    private final CountingSink accessLines;
    private final byte[][] requests;
    private final Object[] inbound = new Object[1];
    private int next;

    private RequestPathFixture(Path dir) throws Exception {
        this.dir = dir;
        ProxyBenchFixtures.main(new String[] {dir.toString(), "3000", "18080", "19901", "18081", "19902"});
        List<String> tokens = lines(dir.resolve("tokens.txt"));
        List<String> clients = lines(dir.resolve("clients.txt"));
        this.requests = new byte[DISTINCT_REQUESTS][];
        for (int i = 0; i < DISTINCT_REQUESTS; i++) {
            requests[i] = ("GET /api/items/" + i + "?page=" + (i % 3) + " HTTP/1.1\r\n"
                    + "Host: bench.example\r\n"
                    + "User-Agent: request-path-bench\r\n"
                    + "Accept: */*\r\n"
                    + "Authorization: Bearer " + tokens.get(i % tokens.size()) + "\r\n"
                    + "X-Forwarded-For: " + clients.get(i % clients.size()) + "\r\n"
                    + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
        this.accessLines = CountingSink.install();

        this.scheduler = Executors.newSingleThreadScheduledExecutor();
        this.snapshot = GatewaySnapshot.create(ConfigLoader.load(dir.resolve("full.yaml")), 1, Clock.systemUTC(),
                scheduler);
        SnapshotHolder holder = new SnapshotHolder();
        holder.swap(snapshot);
        this.metrics = new GatewayMetrics(holder);
        ServerContext context = new ServerContext(holder,
                new DefaultChannelGroup("bench", GlobalEventExecutor.INSTANCE), List.of(new AccessLog(), metrics));
        Transport embedded = new Transport("embedded", NioIoHandler.newFactory(), NioServerSocketChannel.class,
                InMemoryUpstreamChannel.class, NioDatagramChannel.class);
        // the client's event loop exists once it is registered; the pool reads its loops only when it waits or retires
        List<EventLoop> loops = new ArrayList<>(1);
        this.upstreams = new Upstreams(snapshot.config().upstream(), embedded, loops, new LiteralAddressResolverGroup());
        this.client = new EmbeddedSocketChannel(new InetSocketAddress("127.0.0.1", 8080),
                new InetSocketAddress("127.0.0.1", 40_000), true, new ProxyChannelInitializer(context, upstreams));
        loops.add(client.eventLoop());
        // timers (head, idle, response timeouts) never fire; time moves only to deliver the upstream's answers
        client.freezeTime();
    }

    /** Writes the policy files into a new temporary folder and assembles the pipeline. */
    public static RequestPathFixture start() throws Exception {
        return new RequestPathFixture(Files.createTempDirectory("portcullis-request-path"));
    }

    /**
     * One request in (from a pooled buffer, as a socket read delivers it), one response out; returns the number of
     * response bytes the gateway wrote. Throws when the response is not a 200 or the connection closed.
     */
    public int exchange() {
        byte[] request = requests[next++ & (DISTINCT_REQUESTS - 1)];
        ByteBuf in = client.alloc().ioBuffer(request.length);
        in.writeBytes(request);
        inbound[0] = in;
        client.writeInbound(inbound);
        inbound[0] = null;
        client.advanceTimeBy(InMemoryUpstreamChannel.ANSWER_DELAY_NANOS, TimeUnit.NANOSECONDS);
        client.runPendingTasks();
        int bytes = 0;
        boolean ok = false;
        ByteBuf out;
        while ((out = client.readOutbound()) != null) {
            try {
                if (bytes == 0) {
                    ok = isOk(out);
                    if (!ok) {
                        throw new IllegalStateException("expected a 200, got: " + out.toString(StandardCharsets.US_ASCII));
                    }
                }
                bytes += out.readableBytes();
            } finally {
                out.release();
            }
        }
        if (!ok || !client.isActive()) {
            throw new IllegalStateException("no response, or the connection closed (wrote " + bytes + " bytes, active " + client.isActive() + ")");
        }
        return bytes;
    }

    private static boolean isOk(ByteBuf head) {
        int i = head.readerIndex();
        return head.readableBytes() >= 12 && head.getByte(i + 9) == '2' && head.getByte(i + 10) == '0'
                && head.getByte(i + 11) == '0';
    }

    /** Access lines logged so far. */
    public long accessLines() {
        return accessLines.lines;
    }

    @Override
    public void close() throws IOException {
        client.finishAndReleaseAll();
        upstreams.close();
        metrics.close();
        snapshot.close();
        scheduler.shutdownNow();
        accessLines.stop();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(line -> !line.isBlank()).toList();
    }

    /** The {@code portcullis.access} logger's only appender while the fixture runs: it counts lines. */
    private static final class CountingSink extends AppenderBase<ILoggingEvent> {
        private long lines;

        static CountingSink install() {
            ch.qos.logback.classic.Logger access =
                    (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("portcullis.access");
            access.detachAndStopAllAppenders();
            access.setAdditive(false);
            access.setLevel(Level.INFO);
            CountingSink sink = new CountingSink();
            sink.setContext(access.getLoggerContext());
            sink.start();
            access.addAppender(sink);
            return sink;
        }

        @Override
        protected void append(ILoggingEvent event) {
            lines++;
        }
    }
}
