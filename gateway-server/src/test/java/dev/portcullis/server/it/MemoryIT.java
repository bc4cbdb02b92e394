package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayHarness;
import dev.portcullis.server.it.support.GatewayHarness.Gateway;
import dev.portcullis.server.it.support.PatternBytes;
import dev.portcullis.server.it.support.RawHttp;
import dev.portcullis.server.it.support.RawHttp.RawResponse;
import dev.portcullis.server.it.support.UpstreamServer.RecordedRequest;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SPEC 3.7 "bodies streamed both ways with backpressure (never buffered whole)": a 512 MiB response to a
 * client reading at about 50 MiB/s, and a 256 MiB upload to an upstream reading at about 50 MiB/s, keep
 * the gateway's heap and Netty direct memory bounded.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MemoryIT {

    /*
     * The gateway runs in this JVM, so its memory is this JVM's memory. Sampled every 250 ms:
     *   - heap used (MemoryMXBean). Raw heap used includes garbage not yet collected, which depends on
     *     the collector and heap size, so the assertion is on heap used right after a forced GC, taken
     *     every 2 s while the transfer runs (live data: what a buffering proxy would retain). The raw
     *     maximum is printed too.
     *   - Netty memory: PooledByteBufAllocator.DEFAULT and ByteBufAllocator.DEFAULT metrics (used heap /
     *     direct memory of the arenas), PlatformDependent.usedDirectMemory() (all of Netty's direct
     *     memory when it allocates without cleaners, else -1), and the JDK "direct" buffer pool.
     * The slow side throttles its reads (small receive buffer on the client, throttled body reads on
     * the upstream), so without backpressure the gateway would have to hold the difference.
     */

    @RegisterExtension
    static final GatewayHarness harness = new GatewayHarness();

    private static final long MIB = 1024 * 1024;
    private static final long RATE = 50 * MIB; // bytes per second on the slow side
    private static final Duration TRANSFER_DEADLINE = Duration.ofSeconds(45);

    @Test
    void streamsA512MiBResponseToASlowClientWithBoundedMemory() throws Exception {
        long size = 512 * MIB;
        Gateway gw = harness.start("memory.yaml");
        warmUp(gw);
        Sampler sampler = Sampler.start();

        long received = 0;
        long start = System.nanoTime();
        try (RawHttp raw = RawHttp.connect(gw.port(), 64 * 1024)) {
            raw.send("GET /_up/bytes/" + size + " HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n");
            RawResponse head = raw.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).contains(Long.toString(size));

            InputStream in = raw.inputStream();
            byte[] buf = new byte[64 * 1024];
            long deadline = start + TRANSFER_DEADLINE.toNanos();
            while (received < size && System.nanoTime() < deadline) {
                int k = in.read(buf, 0, (int) Math.min(buf.length, size - received));
                if (k < 0) {
                    break;
                }
                received += k;
                long ahead = start + received * 1_000_000_000L / RATE - System.nanoTime();
                if (ahead > 5_000_000L) {
                    TimeUnit.NANOSECONDS.sleep(ahead);
                }
            }
        } finally {
            sampler.stop();
        }

        String report = sampler.report("download", received, System.nanoTime() - start);
        System.out.println(report);
        assertThat(received).as("bytes received within %s%n%s", TRANSFER_DEADLINE, report).isEqualTo(size);
        sampler.assertBounded(report);
    }

    @Test
    void streamsA256MiBUploadToASlowUpstreamWithBoundedMemory() throws Exception {
        long size = 256 * MIB;
        Gateway gw = harness.start("memory.yaml");
        warmUp(gw);
        harness.upstream().reset();
        harness.upstream().throttleBodyReads(RATE);
        Sampler sampler = Sampler.start();

        long start = System.nanoTime();
        RawResponse response;
        try (Socket socket = new Socket()) {
            socket.setSoTimeout((int) TRANSFER_DEADLINE.toMillis());
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), gw.port()), 5_000);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    out.write(("PUT /upload HTTP/1.1\r\nHost: " + gw.authority() + "\r\nContent-Length: " + size
                            + "\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    PatternBytes.writeTo(out, size); // as fast as the gateway accepts it
                    out.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            upload.get(TRANSFER_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            response = readResponseOn(socket);
        } finally {
            sampler.stop();
        }

        String report = sampler.report("upload", size, System.nanoTime() - start);
        System.out.println(report);
        assertThat(response.status()).as("%s%n%s", response, report).isEqualTo(200);
        RecordedRequest up = harness.upstream().awaitSingleRequest();
        assertThat(up.bodyLength()).isEqualTo(size);
        assertThat(up.bodySha256()).isEqualTo(PatternBytes.sha256(size));
        sampler.assertBounded(report);
    }

    private static RawResponse readResponseOn(Socket socket) throws Exception {
        // RawHttp owns its sockets; for this one-off read a minimal status line is enough
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            line.append((char) c);
        }
        String[] parts = line.toString().trim().split(" ", 3);
        return new RawResponse(line.toString().trim(), Integer.parseInt(parts[1]), parts.length > 2 ? parts[2] : "",
                java.util.List.of(), new byte[0]);
    }

    private static void warmUp(Gateway gw) throws Exception {
        try (RawHttp warm = gw.raw()) {
            assertThat(warm.send("GET /_up/bytes/1048576 HTTP/1.1\r\nHost: " + gw.authority() + "\r\n\r\n")
                    .readResponse().status()).isEqualTo(200);
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    /** Samples heap and Netty memory every 250 ms, with a forced GC every 2 s. */
    private static final class Sampler {
        private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private final BufferPoolMXBean jdkDirect = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
                .stream()
                .filter(b -> b.getName().equals("direct"))
                .findFirst()
                .orElseThrow();
        private final long baseHeap = memory.getHeapMemoryUsage().getUsed();
        private final long basePooledDirect = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        private final long baseDefaultDirect = defaultDirect();
        private final long basePlatformDirect = PlatformDependent.usedDirectMemory();
        private final long baseJdkDirect = jdkDirect.getMemoryUsed();
        private final AtomicLong maxHeap = new AtomicLong(baseHeap);
        private final AtomicLong maxHeapAfterGc = new AtomicLong(baseHeap);
        private final AtomicLong maxPooledDirect = new AtomicLong(basePooledDirect);
        private final AtomicLong maxPooledHeap = new AtomicLong(PooledByteBufAllocator.DEFAULT.metric().usedHeapMemory());
        private final AtomicLong maxDefaultDirect = new AtomicLong(baseDefaultDirect);
        private final AtomicLong maxPlatformDirect = new AtomicLong(basePlatformDirect);
        private final AtomicLong maxJdkDirect = new AtomicLong(baseJdkDirect);
        private final AtomicLong samples = new AtomicLong();
        private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "it-memory-sampler");
            t.setDaemon(true);
            return t;
        });

        static Sampler start() {
            Sampler s = new Sampler();
            s.executor.scheduleAtFixedRate(s::sample, 0, 250, TimeUnit.MILLISECONDS);
            return s;
        }

        private void sample() {
            long n = samples.incrementAndGet();
            maxHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            if (n % 8 == 0) {
                System.gc();
                maxHeapAfterGc.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
            }
            maxPooledDirect.accumulateAndGet(PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), Math::max);
            maxPooledHeap.accumulateAndGet(PooledByteBufAllocator.DEFAULT.metric().usedHeapMemory(), Math::max);
            maxDefaultDirect.accumulateAndGet(defaultDirect(), Math::max);
            maxPlatformDirect.accumulateAndGet(PlatformDependent.usedDirectMemory(), Math::max);
            maxJdkDirect.accumulateAndGet(jdkDirect.getMemoryUsed(), Math::max);
        }

        void stop() throws InterruptedException {
            executor.shutdown();
            executor.awaitTermination(5, TimeUnit.SECONDS);
        }

        String report(String what, long bytes, long nanos) {
            double seconds = nanos / 1e9;
            return String.format(Locale.ROOT,
                    "MemoryIT %s: %d MiB in %.1f s (%.1f MiB/s), %d samples%n"
                            + "  heap used:              baseline %s, max %s (growth %s), "
                            + "max right after GC %s (growth %s)%n"
                            + "  Netty pooled direct:    baseline %s, max %s%n"
                            + "  Netty pooled heap:      max %s%n"
                            + "  Netty default allocator (%s) direct: baseline %s, max %s%n"
                            + "  Netty PlatformDependent.usedDirectMemory: baseline %s, max %s%n"
                            + "  JDK direct buffer pool: baseline %s, max %s",
                    what, bytes / MIB, seconds, bytes / MIB / seconds, samples.get(),
                    mib(baseHeap), mib(maxHeap.get()), mib(maxHeap.get() - baseHeap),
                    mib(maxHeapAfterGc.get()), mib(maxHeapAfterGc.get() - baseHeap),
                    mib(basePooledDirect), mib(maxPooledDirect.get()),
                    mib(maxPooledHeap.get()),
                    ByteBufAllocator.DEFAULT.getClass().getSimpleName(), mib(baseDefaultDirect),
                    mib(maxDefaultDirect.get()),
                    basePlatformDirect < 0 ? "n/a" : mib(basePlatformDirect),
                    maxPlatformDirect.get() < 0 ? "n/a" : mib(maxPlatformDirect.get()),
                    mib(baseJdkDirect), mib(maxJdkDirect.get()));
        }

        void assertBounded(String report) {
            assertThat(samples.get()).as("samples taken%n%s", report).isGreaterThanOrEqualTo(8);
            assertThat(maxHeapAfterGc.get() - baseHeap).as("live heap growth%n%s", report).isLessThan(64 * MIB);
            assertThat(maxPooledDirect.get() - basePooledDirect).as("Netty pooled direct memory growth%n%s", report)
                    .isLessThan(32 * MIB);
            assertThat(maxDefaultDirect.get() - baseDefaultDirect)
                    .as("Netty default allocator direct memory growth%n%s", report)
                    .isLessThan(32 * MIB);
            if (basePlatformDirect >= 0) {
                assertThat(maxPlatformDirect.get() - basePlatformDirect).as("Netty direct memory growth%n%s", report)
                        .isLessThan(32 * MIB);
            }
            assertThat(maxJdkDirect.get() - baseJdkDirect).as("JDK direct buffer growth%n%s", report)
                    .isLessThan(32 * MIB);
        }

        private static long defaultDirect() {
            return ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p
                    ? p.metric().usedDirectMemory()
                    : 0;
        }

        private static String mib(long bytes) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
        }
    }
}
