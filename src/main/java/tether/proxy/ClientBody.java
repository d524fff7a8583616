package tether.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.ReadStream;
import java.time.Duration;

/**
 * The client's request body as a stream to pipe upstream, policed on the way: more than {@code max_body_bytes}
 * (a chunked body has no length to check up front) is a 413, a silence longer than the body timeout a 408, and a
 * body the decoder cannot parse (bad chunk size) a 400. Each stops the stream and reports once.
 */
final class ClientBody implements ReadStream<Buffer> {

  interface Failure {
    void failed(int status, String message);
  }

  private final HttpServerRequest req;
  private final Vertx vertx;
  private final long maxBytes;
  private final long timeoutMillis;
  private final Failure onFailure;
  private long received;
  private long lastReceived;
  private long timer = -1;
  private boolean failed;
  private boolean paused;
  private Handler<Throwable> exceptionHandler;
  private Handler<Void> endHandler;

  ClientBody(HttpServerRequest req, Vertx vertx, long maxBytes, Duration timeout, Failure onFailure) {
    this.req = req;
    this.vertx = vertx;
    this.maxBytes = maxBytes;
    this.timeoutMillis = Math.max(1, timeout.toMillis());
    this.onFailure = onFailure;
    req.exceptionHandler(err -> fail(400, "malformed request body"));
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> handler) {
    if (handler == null) {
      req.handler(null);
      return this;
    }
    armTimer();
    req.handler(buf -> {
      received += buf.length();
      if (received > maxBytes) {
        fail(413, "request body larger than " + maxBytes + " bytes");
      } else if (!failed) {
        handler.handle(buf);
      }
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> handler) {
    this.endHandler = handler;
    req.endHandler(v -> {
      cancelTimer();
      if (!failed && endHandler != null) {
        endHandler.handle(null);
      }
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    paused = true;
    req.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    paused = false;
    req.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    paused = false;
    req.fetch(amount);
    return this;
  }

  /**
   * Fires every timeout; a period with no new byte while we are reading is a stalled client (while the backend
   * makes us wait, backpressure pauses the body, and that is not the client's fault).
   */
  private void armTimer() {
    if (timer < 0) {
      timer = vertx.setPeriodic(timeoutMillis, id -> {
        if (received == lastReceived && !paused && !req.isEnded()) {
          fail(408, "request body stalled for more than " + timeoutMillis + " ms");
        }
        lastReceived = received;
      });
    }
  }

  private void cancelTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void fail(int status, String message) {
    if (failed) {
      return;
    }
    failed = true;
    cancelTimer();
    onFailure.failed(status, message); // answers the client before the pipe's failure resets the upstream
    if (exceptionHandler != null) {
      exceptionHandler.handle(new IllegalStateException(message));
    }
  }
}
