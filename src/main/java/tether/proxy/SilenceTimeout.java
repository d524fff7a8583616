package tether.proxy;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.streams.ReadStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The wait for a backend, timed (nginx's {@code proxy_read_timeout}): once the request is fully sent
 * ({@link #start}), the longest silence allowed before the response head and then between body chunks is
 * {@code timeouts.response_header}; past it the upstream request is reset with a {@link TimeoutException}, which
 * {@link Failover} reads as a response timeout (504, or another server when nothing was received). Once the head
 * arrives ({@link #body}) this is the body stream Tether pipes to the client. While the pipe holds the body paused
 * because the client does not read, the silence is the client's, not the server's: it is not timed (the client
 * connection's {@code timeouts.idle} ends a client that stops reading, as nginx's {@code send_timeout}), and the
 * server gets a whole {@code timeouts.response_header} again once the client reads.
 *
 * <p>One task on the connection's Netty event loop per request, never a Vert.x timer: Vert.x's
 * {@code HttpClientRequest.idleTimeout} cannot be cancelled once the body is timed and held every finished request
 * for 30 s, and its timers go through a shared map; data only moves a timestamp, the task re-arms itself when it
 * finds the silence shorter than the limit. Event-loop confined.
 */
final class SilenceTimeout implements ReadStream<Buffer> {

  private final EventLoop loop;
  private final HttpClientRequest out;
  private final long millis;
  private HttpClientResponse in;
  private long lastData;
  private ScheduledFuture<?> task;
  private boolean done;
  /** Paused by the pipe: the client is not reading. */
  private boolean paused;

  SilenceTimeout(EventLoop loop, HttpClientRequest out, long millis) {
    this.loop = loop;
    this.out = out;
    this.millis = Math.max(1, millis);
  }

  /** The request is sent: the wait starts (once; later calls do nothing). */
  void start() {
    if (!done && task == null) {
      lastData = System.currentTimeMillis();
      schedule(millis);
    }
  }

  /** The response head arrived: silences are timed from now, between body chunks. @return the body stream */
  SilenceTimeout body(HttpClientResponse response) {
    this.in = response;
    lastData = System.currentTimeMillis();
    start(); // (a head can arrive before the request was fully sent: an early 413, say)
    return this;
  }

  private void schedule(long delay) {
    task = loop.schedule(this::check, delay, TimeUnit.MILLISECONDS);
  }

  private void check() {
    if (done) {
      return;
    }
    long silent = System.currentTimeMillis() - lastData;
    if (paused) {
      schedule(millis); // the client's silence: looked at again, never the server's failure
    } else if (silent >= millis) {
      done = true;
      out.reset(0, new TimeoutException("no response data for " + millis + "ms"));
    } else {
      schedule(millis - silent);
    }
  }

  /** The exchange is over with this attempt (body ended, failed, or abandoned): no more timing. */
  void cancel() {
    if (!done) {
      done = true;
      if (task != null) {
        task.cancel(false);
      }
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
    paused = true;
    in.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    reading();
    in.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    reading();
    in.fetch(amount);
    return this;
  }

  /** The client reads again: the server's silence is timed from now. */
  private void reading() {
    if (paused) {
      paused = false;
      lastData = System.currentTimeMillis();
    }
  }
}
