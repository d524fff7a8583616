package tether.e2e;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Watches Tether's GET /status every 20ms in a thread of its own, and remembers when each server stopped and
 * started taking traffic ({@code state} other than up or drain: down by health checks, ejected by passive checks,
 * disabled). A test can then tell a user's move that Tether had a reason for from one it had none for.
 */
final class StatusWatch implements AutoCloseable {

  /** A time a server was not available: [fromNanos, toNanos], toNanos = Long.MAX_VALUE while it lasts. */
  record Outage(String server, String state, long fromNanos, long toNanos) {}

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final URI status;
  private final Thread thread;
  private final Map<String, Outage> open = new HashMap<>();
  private final List<Outage> outages = new ArrayList<>();
  private volatile boolean stopped;
  private long lastPollNanos = System.nanoTime();

  StatusWatch(String statusUrl) {
    this.status = URI.create(statusUrl);
    this.thread = new Thread(this::run, "tether-e2e-status-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (!stopped) {
      long polledAt = System.nanoTime();
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(status).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
        record(new JsonObject(r.body()), polledAt);
        TimeUnit.MILLISECONDS.sleep(20);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // Tether stopping, or a slow answer: the next poll tells
      }
    }
  }

  private synchronized void record(JsonObject status, long polledAt) {
    long now = System.nanoTime();
    for (Object u : status.getJsonArray("upstreams")) {
      for (Object o : ((JsonObject) u).getJsonArray("servers")) {
        JsonObject s = (JsonObject) o;
        String name = s.getString("name");
        String state = s.getString("state");
        boolean available = state.equals("up") || state.equals("drain");
        Outage current = open.get(name);
        // an outage began after the previous poll and ended before this one answered: record it that wide
        if (!available && current == null) {
          open.put(name, new Outage(name, state, lastPollNanos, Long.MAX_VALUE));
        } else if (available && current != null) {
          open.remove(name);
          outages.add(new Outage(name, current.state(), current.fromNanos(), now));
        }
      }
    }
    lastPollNanos = polledAt;
  }

  /** Whether {@code server} was seen not taking traffic at some time within [fromNanos - slack, toNanos + slack]. */
  synchronized boolean unavailableDuring(String server, long fromNanos, long toNanos, Duration slack) {
    long from = fromNanos - slack.toNanos();
    long to = toNanos + slack.toNanos();
    return all().stream().anyMatch(o -> o.server().equals(server) && o.fromNanos() <= to && o.toNanos() >= from);
  }

  /** Every outage seen, finished or not. */
  synchronized List<Outage> all() {
    List<Outage> all = new ArrayList<>(outages);
    all.addAll(open.values());
    return all;
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    thread.interrupt();
    thread.join(10_000);
  }
}
