package dev.portcullis.core.identity;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** The HTTP client that fetches JWK sets: asynchronous, size-capped, with a deadline on the whole exchange. */
final class JwksHttp {

    /** A JWK set larger than this is refused; real ones are a few KiB. */
    static final int MAX_DOCUMENT_BYTES = 512 * 1024;

    private final HttpClient client;
    private final ScheduledExecutorService scheduler;

    JwksHttp(ScheduledExecutorService scheduler, Duration connectTimeout) {
        this.scheduler = scheduler;
        this.client = HttpClient.newBuilder()
                .executor(scheduler)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** GETs {@code uri}; the future fails on a transport error, an oversized body, or after {@code timeout}. */
    CompletableFuture<HttpResponse<byte[]>> get(URI uri, Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Accept", "application/jwk-set+json, application/json")
                .GET()
                .build();
        CompletableFuture<HttpResponse<byte[]>> response =
                client.sendAsync(request, info -> new BoundedBody(MAX_DOCUMENT_BYTES));
        // HttpRequest.timeout only covers the response head; a server that trickles the body is cut off here.
        try {
            ScheduledFuture<?> deadline =
                    scheduler.schedule(() -> response.cancel(true), timeout.toMillis(), TimeUnit.MILLISECONDS);
            response.whenComplete((r, e) -> deadline.cancel(false));
        } catch (RejectedExecutionException e) {
            response.cancel(true);
        }
        return response;
    }

    /** Collects a body up to a limit, failing (and cancelling the exchange) beyond it. */
    private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
        private final int limit;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private byte[] buffer = new byte[8192];
        private int size;
        private Flow.@Nullable Subscription subscription;

        BoundedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription newSubscription) {
            subscription = newSubscription;
            newSubscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer item : items) {
                int n = item.remaining();
                if (size + n > limit) {
                    result.completeExceptionally(new IOException("JWK set larger than " + limit + " bytes"));
                    Flow.Subscription s = subscription;
                    if (s != null) {
                        s.cancel();
                    }
                    return;
                }
                if (size + n > buffer.length) {
                    buffer = Arrays.copyOf(buffer, Math.min(limit, Math.max(size + n, buffer.length * 2)));
                }
                item.get(buffer, size, n);
                size += n;
            }
        }

        @Override
        public void onError(Throwable error) {
            result.completeExceptionally(error);
        }

        @Override
        public void onComplete() {
            result.complete(Arrays.copyOf(buffer, size));
        }
    }
}
