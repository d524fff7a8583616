package tether.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.streams.ReadStream;
import java.util.concurrent.TimeoutException;

/**
 * A backend's response body, as the stream Tether pipes to the client, with its silences timed (nginx's
 * {@code proxy_read_timeout}): no data for {@code timeouts.response_header} and the upstream request is reset, which
 * fails the body. Vert.x's own {@code HttpClientRequest.idleTimeout} does the same but has no cancel: its timer holds
 * the request, and everything the request holds, until it fires, long after the response ended, which at thousands
 * of requests a second is a heap full of finished exchanges. This timer ends with the body.
 */
final class SilenceTimeout implements ReadStream<Buffer> {

  private final Vertx vertx;
  private final HttpClientResponse in;
  private final long millis;
  private long lastData = System.currentTimeMillis();
  private long timer;
  private boolean done;

  SilenceTimeout(Vertx vertx, HttpClientResponse in, long millis) {
    this.vertx = vertx;
    this.in = in;
    this.millis = Math.max(1, millis);
    this.timer = vertx.setTimer(this.millis, t -> check());
  }

  private void check() {
    if (done) {
      return;
    }
    long silent = System.currentTimeMillis() - lastData;
    if (silent >= millis) {
      done = true;
      in.request().reset(0, new TimeoutException("no response data for " + millis + "ms"));
    } else {
      timer = vertx.setTimer(millis - silent, t -> check());
    }
  }

  /** The body ended (or failed): no more timing. */
  void cancel() {
    if (!done) {
      done = true;
      vertx.cancelTimer(timer);
    }
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    in.handler(handler == null ? null : buf -> {
      lastData = System.currentTimeMillis();
      handler.handle(buf);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    in.endHandler(handler == null ? null : v -> {
      cancel();
      handler.handle(v);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    in.exceptionHandler(handler == null ? null : err -> {
      cancel();
      handler.handle(err);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    in.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    in.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    in.fetch(amount);
    return this;
  }
}
