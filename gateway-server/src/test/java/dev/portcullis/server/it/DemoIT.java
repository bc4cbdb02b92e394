package dev.portcullis.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.server.it.support.GatewayProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code portcullis demo} as a user runs it: the packaged jar as a child process, its printed curl commands
 * executed with bash as printed, each answering the status printed above it and adding its own decision-log
 * line (path and status) to the demo's output; SIGINT then exits 0 and removes
 * the demo's temporary folder.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DemoIT {
    private static final String READY = "Press Ctrl-C to stop.";
    private static final Pattern EXPECTED = Pattern.compile("^# (\\d{3})  (.+)$");
    private static final Pattern LAST_STATUS = Pattern.compile("(\\d{3})\\s*$");
    private static final Pattern POLICY = Pattern.compile("^  policy    (\\S+)  \\(deleted at exit\\)$");
    private static final Pattern PATH = Pattern.compile("http://127\\.0\\.0\\.1:\\d+(/[A-Za-z0-9/_.-]*)");

    record Command(int status, String what, String line) {}

    @Test
    void printedCommandsAnswerWhatTheyPromiseAndCtrlCExitsZero() throws Exception {
        assertThat(run("command -v curl").exit()).as("curl is installed (.ci/run installs it)").isZero();
        Path jar = Path.of("target", "portcullis.jar");
        assertThat(jar).as("the packaged jar (mvn package runs before the ITs)").exists();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> demo = new ArrayList<>(GatewayProcess.DEFAULT_SIGNALS); // a background job ignores SIGINT
        demo.addAll(List.of(java, "-jar", jar.toString(), "demo"));
        Process process = new ProcessBuilder(demo).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> ready = readInto(process, lines);
        try {
            ready.get(30, TimeUnit.SECONDS);
            String tokens = lines.stream().filter(l -> l.startsWith("export READER=")).findFirst().orElseThrow();
            List<Command> commands = commands(lines);
            Set<Integer> shown = new TreeSet<>();
            for (Command command : commands) {
                int expected = expectedNow(command);
                int logged = lines.size();
                Shell result = run(tokens + "\n" + command.line());
                assertThat(result.exit()).as("exit of %s", command.line()).isZero();
                Matcher status = LAST_STATUS.matcher(result.out());
                assertThat(status.find()).as("a status in the output of %s: %s", command.line(), result.out()).isTrue();
                assertThat(Integer.parseInt(status.group(1))).as("%s (%s)", command.what(), result.out())
                        .isEqualTo(expected);
                Matcher path = PATH.matcher(command.line());
                assertThat(path.find()).as("a gateway URL in %s", command.line()).isTrue();
                awaitLine(lines, logged, "\"path\":\"" + path.group(1) + "\"", "\"status\":" + expected);
                shown.add(command.status());
            }
            assertThat(shown).containsAll(List.of(200, 401, 403, 404, 429));
            awaitLine(lines, 0, "\"audit\":[{\"rule\":\"legacy-clients-trial\",\"decision\":\"deny\"");
            Path folder = Path.of(lines.stream().map(POLICY::matcher).filter(Matcher::matches)
                    .map(m -> m.group(1)).findFirst().orElseThrow()).getParent();
            assertThat(folder).exists();

            assertThat(run("kill -INT " + process.pid()).exit()).isZero();
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("exited after SIGINT").isTrue();
            assertThat(process.exitValue()).as("exit code after SIGINT; output: %s", lines).isZero();
            assertThat(folder).as("the demo's temporary folder is deleted at exit").doesNotExist();
        } finally {
            process.destroyForcibly();
        }
    }

    private static CompletableFuture<Void> readInto(Process process, List<String> lines) {
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    if (line.equals(READY)) {
                        ready.complete(null);
                    }
                }
                ready.completeExceptionally(new AssertionError("the demo ended before it was ready: " + lines));
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        return ready;
    }

    /** Every {@code # <status>  <what>} line and the command line under it. */
    private static List<Command> commands(List<String> lines) {
        List<Command> commands = new ArrayList<>();
        for (int i = 0; i + 1 < lines.size(); i++) {
            Matcher m = EXPECTED.matcher(lines.get(i));
            if (m.matches()) {
                commands.add(new Command(Integer.parseInt(m.group(1)), m.group(2), lines.get(i + 1)));
            }
        }
        assertThat(commands).as("printed commands in %s", lines).hasSizeGreaterThanOrEqualTo(5);
        assertThat(commands).allSatisfy(c -> assertThat(c.line()).contains("curl "));
        return commands;
    }

    /**
     * The status a command answers now: the printed one, except for the office-hours example when the schedule
     * turned (08:00 or 18:00 UTC, or a weekend's edge) between the demo printing it and the test running it.
     */
    private static int expectedNow(Command command) {
        if (!command.line().contains("/reports/")) {
            return command.status();
        }
        ZonedDateTime utc = Instant.now().atZone(ZoneOffset.UTC);
        boolean open = utc.getDayOfWeek().compareTo(DayOfWeek.SATURDAY) < 0 && utc.getHour() >= 8 && utc.getHour() < 18;
        return open ? 200 : 403;
    }

    /** Waits for a decision-log line, printed after the first {@code from} lines, that holds every fragment. */
    private static void awaitLine(List<String> lines, int from, String... fragments) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!hasLine(lines, from, fragments) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(hasLine(lines, from, fragments))
                .as("a decision log line with %s after line %d of %s", List.of(fragments), from, lines).isTrue();
    }

    private static boolean hasLine(List<String> lines, int from, String... fragments) {
        // a snapshot: a sub-list of the live list throws once the reader thread appends a line
        List<String> now = List.copyOf(lines);
        return now.subList(Math.min(from, now.size()), now.size()).stream()
                .anyMatch(l -> Arrays.stream(fragments).allMatch(l::contains));
    }

    record Shell(int exit, String out) {}

    private static Shell run(String script) throws Exception {
        Process shell = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        String out = new String(shell.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(shell.waitFor(20, TimeUnit.SECONDS)).as("bash -c %s", script).isTrue();
        return new Shell(shell.exitValue(), out);
    }
}
