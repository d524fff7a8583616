package tether.proxy;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.time.Duration;

/**
 * The client's request body as a stream to pipe upstream, policed on the way: more than {@code max_body_bytes}
 * (a chunked body has no length to check up front) is a 413, a silence longer than the body timeout a 408, a
 * body the decoder cannot parse a 400, and a backend that stops reading it (backpressure holds the body paused
 * longer than the response timeout) a 504; a client that closes or resets mid-body left (499, nginx's "client
 * closed request"), which is no answer's business. Each stops the stream and reports once.
 */
final class ClientBody implements ReadStream<Buffer> {

  interface Failure {
    /** The body broke: {@code status} is the answer (413, 408, 400, 504). */
    void failed(int status, String message);

    /** The client closed or reset its connection (or HTTP/2 stream) before the body's end: nobody to answer. */
    void clientClosed();
  }

  private final HttpServerRequest req;
  private final Vertx vertx;
  private final long maxBytes;
  private final long timeoutMillis;
  private final long sendStallMillis;
  private long pausedSinceMillis = -1;
  private final Failure onFailure;
  private long received;
  private long lastProgressMillis;
  private long timer = -1;
  private boolean failed;
  private boolean paused;
  private Handler<Throwable> exceptionHandler;
  private Handler<Void> endHandler;

  /**
   * @param timeout         {@code timeouts.body}: the longest silence of the client while Tether reads
   * @param sendStallMillis {@code timeouts.response_header}: the longest the backend may leave the body unread
   */
  ClientBody(HttpServerRequest req, Vertx vertx, long maxBytes, Duration timeout, long sendStallMillis,
             Failure onFailure) {
    this.req = req;
    this.vertx = vertx;
    this.maxBytes = maxBytes;
    this.timeoutMillis = Math.max(1, timeout.toMillis());
    this.sendStallMillis = Math.max(1, sendStallMillis);
    this.onFailure = onFailure;
    req.exceptionHandler(err -> {
      if (err instanceof HttpClosedException || err instanceof StreamResetException || err instanceof IOException) {
        left(err);
      } else {
        fail(400, "malformed request body");
      }
    });
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
      lastProgressMillis = System.currentTimeMillis();
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
    if (!paused) {
      pausedSinceMillis = System.currentTimeMillis();
    }
    paused = true;
    req.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    resumed();
    req.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    resumed();
    req.fetch(amount);
    return this;
  }

  /** The client's clock restarts when Tether reads again: a pause by backpressure is not the client's fault. */
  private void resumed() {
    if (paused) {
      lastProgressMillis = System.currentTimeMillis();
    }
    paused = false;
  }

  /**
   * Checks a few times per timeout: no byte for the body timeout while Tether reads is a stalled client (408);
   * paused by backpressure for the response timeout is a backend that stopped reading (504).
   */
  private void armTimer() {
    if (timer < 0) {
      lastProgressMillis = System.currentTimeMillis();
      long period = Math.max(50, Math.min(timeoutMillis, sendStallMillis) / 4);
      timer = vertx.setPeriodic(period, id -> {
        long now = System.currentTimeMillis();
        if (req.isEnded()) {
          cancelTimer();
        } else if (!paused && now - lastProgressMillis > timeoutMillis) {
          fail(408, "request body stalled for more than " + timeoutMillis + " ms");
        } else if (paused && now - pausedSinceMillis > sendStallMillis) {
          fail(504, "upstream server stopped reading the request body");
        }
      });
    }
  }

  private void cancelTimer() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void left(Throwable err) {
    if (failed) {
      return;
    }
    failed = true;
    cancelTimer();
    onFailure.clientClosed();
    if (exceptionHandler != null) {
      exceptionHandler.handle(err);
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
