package dev.portcullis.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.portcullis.core.config.CompiledConfig;
import dev.portcullis.core.config.ConfigResourceException;
import dev.portcullis.core.explain.Explanation;
import dev.portcullis.core.explain.SimulatedAdmission;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.KeyWait;
import dev.portcullis.core.identity.RejectReason;
import dev.portcullis.core.identity.Resolution;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.RequestHeaders;
import dev.portcullis.core.runtime.GatewaySnapshot;
import dev.portcullis.server.GatewayServer;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code portcullis explain}: decide one hypothetical request offline and show the request as understood, each rule
 * evaluated with each condition's outcome, and the answer (SPEC 2).
 */
@Command(
        name = "explain",
        mixinStandardHelpOptions = true,
        description = {
            "Decide one hypothetical request offline: show the request as the gateway understands it, each rule "
                    + "evaluated in order with the outcome of each condition, and the answer (200 = proxied).",
            "A bearer token in --header 'Authorization: Bearer ...' is verified as the server would (key files, "
                    + "JWKS URLs and secrets as configured; a jwks_url is fetched once). Exit 0 when the config "
                    + "loads, 1 when it does not."
        })
final class ExplainCommand implements Callable<Integer> {
    /** How long to wait for a {@code jwks_url} to answer before deciding with the keys at hand. */
    private static final long KEY_WAIT_SECONDS = 10;

    @Mixin
    ConfigOption config;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--method", required = true, paramLabel = "M", description = "Request method, e.g. GET")
    String method;

    @Option(names = "--path", required = true, paramLabel = "P",
            description = "Request target, e.g. /api/orders?page=2 (canonicalized as the server does)")
    String path;

    @Option(names = "--host", paramLabel = "H", description = "Host header (default: none; or --header 'Host: H')")
    @Nullable String host;

    @Option(names = "--ip", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = {"The client IP as the rules see it, after the trusted-proxy walk (default: ${DEFAULT-VALUE}).",
                "It is also taken as the TCP peer: forwarded-identity headers are believed only when it is in "
                        + "identity.forwarded.trusted_proxies."})
    String ip;

    @Option(names = "--header", paramLabel = "'Name: value'", description = "A request header; repeatable")
    List<String> headers = new ArrayList<>();

    @Option(names = "--at", paramLabel = "ISO-8601",
            description = "The time of the request, e.g. 2025-03-14T09:30:00Z (default: now); tokens are checked "
                    + "at that time too")
    @Nullable String at;

    @Option(names = "--json", description = "Print the explanation as JSON")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        IpAddress address = IpAddress.parseOrNull(ip, 0, ip.length());
        if (address == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "\"" + ip + "\" is not a valid --ip (expected: an IPv4 or IPv6 address, e.g. 198.51.100.7)");
        }
        Instant instant = instant();
        Map<String, List<String>> headerMap = headerMap();
        CompiledConfig compiled = ConfigFiles.load(config.resolve(), err);
        if (compiled == null) {
            return 1;
        }
        Clock clock = Clock.fixed(instant, ZoneOffset.UTC);
        ScheduledExecutorService background = GatewayServer.newBackgroundExecutor();
        try (GatewaySnapshot snapshot = GatewaySnapshot.create(compiled, 1, clock, background)) {
            Explanation explanation = explain(snapshot, address, headerMap, clock);
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? toJson(explanation) + "\n" : explanation.text());
            out.flush();
            return 0;
        } catch (ConfigResourceException e) {
            ConfigFiles.printProblems(config.resolve(), compiled, e, background, err);
            return 1;
        } finally {
            background.shutdownNow();
        }
    }

    private Explanation explain(GatewaySnapshot snapshot, IpAddress address, Map<String, List<String>> given,
            Clock clock) {
        IdentityChain chain = snapshot.decisions().identity();
        CompiledConfig compiled = snapshot.config();
        // what the server does before any rule runs, --ip taken as the TCP peer
        SimulatedAdmission.Admitted admitted = SimulatedAdmission.admit(method, path, host, given, chain, address,
                compiled.clientIps().isTrusted(address), snapshot.decisions().headersRead(),
                compiled.policy().caseInsensitivePaths(), compiled.limits());
        RequestHeaders requestHeaders = RequestHeaders.of(admitted.headers());
        String authorization = requestHeaders.first("Authorization");
        // one wait for keys in all: the fetch at start and a refetch for an unknown kid share it
        long keysBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(KEY_WAIT_SECONDS);
        if (authorization != null && snapshot.jwt() != null) {
            await(snapshot.jwt().refreshKeys(), keysBy);
        }
        Resolution bearer = chain.verifyBearer(authorization);
        KeyWait wait = chain.afterKeyFetch(authorization, bearer);
        if (wait != null) {
            await(wait.landed(), keysBy);
            bearer = wait.settle(); // what landed, or (not in time) the rejection it waited with
        }
        RejectReason rejection = bearer instanceof Resolution.Rejected rejected ? rejected.reason() : null;
        Identity identity = chain.identity(bearer, requestHeaders, address);
        Explanation explanation = Explanation.of(compiled.policy(), method, path, admitted.host(), address,
                address, requestHeaders, identity, rejection, clock, snapshot.geo(),
                compiled.geoip().database() != null, compiled.geoip().asnDatabase() != null);
        return admitted.rejected() == null ? explanation : explanation.refused(admitted.rejected());
    }

    private static <T> @Nullable T await(CompletableFuture<T> future, long deadlineNanos) {
        try {
            return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            // a fetch that fails or does not answer in time: decide with the keys at hand, as the server would
            return null;
        }
    }

    private Instant instant() {
        if (at == null) {
            return Instant.now();
        }
        try {
            return OffsetDateTime.parse(at).toInstant();
        } catch (DateTimeParseException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "\"" + at + "\" is not a valid --at "
                    + "(expected: an ISO-8601 time with offset, e.g. 2025-03-14T09:30:00Z)");
        }
    }

    private Map<String, List<String>> headerMap() {
        Map<String, List<String>> map = new LinkedHashMap<>();
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon <= 0 || header.substring(0, colon).isBlank()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "\"" + header + "\" is not a valid "
                        + "--header (expected: 'Name: value', e.g. 'Authorization: Bearer eyJ...')");
            }
            map.computeIfAbsent(header.substring(0, colon).trim(), n -> new ArrayList<>())
                    .add(header.substring(colon + 1).trim());
        }
        return map;
    }

    private static String toJson(Explanation explanation) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(explanation.toMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("explanation is not serializable", e);
        }
    }
}
