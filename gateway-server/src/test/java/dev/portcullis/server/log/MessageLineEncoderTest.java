package dev.portcullis.server.log;

import static dev.portcullis.core.testing.AllocationMeter.bytesPerCall;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The access line's encoder writes exactly what {@code (message + "\n").getBytes(UTF_8)} holds. */
class MessageLineEncoderTest {

    /** Where the measured encodes publish their arrays, so that escape analysis cannot remove them. */
    private static volatile byte @Nullable [] escaped;

    private final LoggerContext context = newContext();
    private final Logger access = context.getLogger("portcullis.access");
    private final MessageLineEncoder encoder = started(new MessageLineEncoder());

    private static LoggerContext newContext() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        return context;
    }

    private MessageLineEncoder started(MessageLineEncoder encoder) {
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    private ILoggingEvent event(String message) {
        return new LoggingEvent(MessageLineEncoderTest.class.getName(), access, Level.INFO, message, null, null);
    }

    private ILoggingEvent event(String pattern, Object... arguments) {
        return new LoggingEvent(MessageLineEncoderTest.class.getName(), access, Level.INFO, pattern, null, arguments);
    }

    private static byte[] utf8Line(String message) {
        return (message + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "{\"ts\":\"2025-06-01T12:34:56.789Z\",\"path\":\"/api/orders\",\"status\":200}",
        "caf\u00e9 \u00fcber \u00ff",                     // Latin-1: 2 bytes each
        "\u20ac 10 \u65e5\u672c\u8a9e \u0800 \uffff",     // BMP: 3 bytes each
        "\ud83e\udd80 crab, \ud83d\ude00 grin",           // supplementary (surrogate pairs): 4 bytes each
        "lone high \ud800 here",
        "lone low \udc00 here",
        "reversed \udc00\ud800 pair",
        "ends on a high surrogate \ud83d",
        "\ud800",
        "ascii then \u0080 then \u07ff"})
    void writesTheMessageAndANewlineAsUtf8(String message) {
        assertThat(encoder.encode(event(message))).isEqualTo(utf8Line(message));
    }

    @Test
    void writesTheFormattedMessageOfAnEventWithArguments() {
        ILoggingEvent event = event("{} from {} got {}", "j\u00fcrgen", "203.0.113.9", 403);

        assertThat(encoder.encode(event)).isEqualTo(utf8Line("j\u00fcrgen from 203.0.113.9 got 403"));
    }

    @Test
    void agreesWithStringGetBytesOnRandomStrings() {
        // chars drawn so that ASCII, 2- and 3-byte chars and surrogates (paired or not) all come up often
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder message = new StringBuilder();
            int length = random.nextInt(12);
            for (int c = 0; c < length; c++) {
                message.append(switch (random.nextInt(5)) {
                    case 0 -> (char) random.nextInt(0x80);
                    case 1 -> (char) random.nextInt(0x80, 0x800);
                    case 2 -> (char) random.nextInt(0xD800, 0xE000);
                    case 3 -> (char) random.nextInt(0xE000, 0x10000);
                    default -> (char) random.nextInt(0x800, 0x10000);
                });
            }
            String text = message.toString();
            assertThat(encoder.encode(event(text))).as("%s", text.chars().mapToObj(Integer::toHexString).toList())
                    .isEqualTo(utf8Line(text));
        }
    }

    @Test
    void hasNoHeaderOrFooter() {
        assertThat(encoder.headerBytes()).isNull();
        assertThat(encoder.footerBytes()).isNull();
    }

    @Test
    void anAppenderOfARealLoggerContextWritesExactlyTheLines() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setName("ACCESS");
        appender.setEncoder(encoder);
        appender.setOutputStream(out);
        appender.start();
        access.setAdditive(false);
        access.addAppender(appender);

        access.info("{\"path\":\"/a\"}");
        access.info("{\"subject\":\"{}\",\"status\":{}}", "ren\u00e9e \ud83e\udd80", 200);
        access.info("");
        context.stop();

        assertThat(appender.isStarted()).isFalse();
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .noneMatch(s -> s.getLevel() >= Status.WARN);
        assertThat(out.toByteArray()).isEqualTo(
                utf8Line("{\"path\":\"/a\"}\n{\"subject\":\"ren\u00e9e \ud83e\udd80\",\"status\":200}\n"));
    }

    @Test
    void anAsciiLineAllocatesOnlyItsArray() {
        String message = "{\"ts\":\"2025-06-01T12:34:56.789Z\",\"request_id\":\"" + "r".repeat(351) + "\"}";
        assertThat(message).hasSize(400);
        ILoggingEvent event = event(message);
        assertThat(encoder.encode(event)).isEqualTo(utf8Line(message));

        double bytes = bytesPerCall(() -> (escaped = encoder.encode(event)) != null);

        // the array alone is 424 bytes: 401 and a 16-byte header, rounded up to a multiple of 8
        assertThat(bytes).as("bytes allocated per encode of a 400-char ASCII line").isLessThanOrEqualTo(400 + 1 + 32);
    }
}
