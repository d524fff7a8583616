package tether.health;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.config.HealthConfig;
import tether.upstream.Backend;
import tether.upstream.Upstream;

/**
 * Probes every server of every upstream that has {@code health:}, each on its own jittered timer, with a Web
 * Client that keeps no cookies (checks never touch sessions). {@link #apply} replaces all probes after a reload;
 * each result goes to the server's state machine ({@link Backend#reportProbe}), which survives reloads.
 */
public final class ActiveHealthChecker {

  private static final Logger LOG = LoggerFactory.getLogger(ActiveHealthChecker.class);

  private final Vertx vertx;
  private final WebClient client;
  private volatile List<Probe> probes = List.of();

  public ActiveHealthChecker(Vertx vertx) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setUserAgent("tether-health")
        .setFollowRedirects(false));
  }

  public synchronized void apply(Map<String, Upstream> upstreams) {
    probes.forEach(p -> p.stopped = true);
    List<Probe> next = new ArrayList<>();
    for (Upstream u : upstreams.values()) {
      HealthConfig health = u.config().health();
      if (health != null) {
        for (Backend b : u.backends()) {
          Probe p = new Probe(b, health);
          next.add(p);
          p.schedule(Jitter.firstDelayMillis(health.interval().toMillis(), ThreadLocalRandom.current()));
        }
      }
    }
    probes = List.copyOf(next);
  }

  public synchronized void stop() {
    probes.forEach(p -> p.stopped = true);
    probes = List.of();
  }

  private final class Probe {
    final Backend backend;
    final HealthConfig health;
    volatile boolean stopped;

    Probe(Backend backend, HealthConfig health) {
      this.backend = backend;
      this.health = health;
    }

    void schedule(long delayMillis) {
      if (!stopped) {
        vertx.setTimer(delayMillis, t -> run());
      }
    }

    void run() {
      if (stopped) {
        return;
      }
      int port = health.port() > 0 ? health.port() : backend.config().port();
      SocketAddress at = backend.address(); // the address requests go to now, not the name (resolved elsewhere)
      long start = System.nanoTime();
      if (at == null) {
        evaluate(Future.failedFuture(new UnknownHostException(backend.resolved().failure())), start);
        return;
      }
      var request = client.request(HttpMethod.valueOf(health.method()), SocketAddress.inetSocketAddress(port,
              at.host()), port, backend.config().host(), health.path())
          .timeout(health.timeout().toMillis())
          .connectTimeout(health.timeout().toMillis());
      if (health.host() != null) {
        request.virtualHost(health.host());
      }
      request.send().onComplete(ar -> evaluate(ar, start));
    }

    void evaluate(AsyncResult<HttpResponse<Buffer>> ar, long startNanos) {
      if (stopped) {
        return;
      }
      String failure = failure(ar);
      if (ar.failed() && ar.cause() instanceof TimeoutException) {
        backend.reportProbeTimeout(failure, health.timeout(), health.rise(), health.fall());
      } else {
        backend.reportProbe(failure == null, failure == null ? "ok " + ar.result().statusCode() : failure,
            System.nanoTime() - startNanos, health.rise(), health.fall());
      }
      schedule(Jitter.nextDelayMillis(health.interval().toMillis(), ThreadLocalRandom.current()));
    }

    private String failure(AsyncResult<HttpResponse<Buffer>> ar) {
      if (ar.failed()) {
        Throwable e = ar.cause();
        if (e instanceof TimeoutException) {
          return "timeout after " + health.timeout().toMillis() + "ms";
        }
        if (e instanceof ConnectException) {
          return "connect refused";
        }
        if (e instanceof UnknownHostException) {
          return "does not resolve: " + e.getMessage();
        }
        String message = String.valueOf(e.getMessage());
        return message.toLowerCase().contains("reset") ? "connection reset" : message;
      }
      int status = ar.result().statusCode();
      if (status < health.expectStatusMin() || status > health.expectStatusMax()) {
        return "status " + status;
      }
      if (health.expectBody() != null) {
        Buffer body = ar.result().body();
        if (body == null || !body.toString().contains(health.expectBody())) {
          return "body lacks \"" + health.expectBody() + "\"";
        }
      }
      return null;
    }
  }
}
