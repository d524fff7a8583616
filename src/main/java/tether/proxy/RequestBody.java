package tether.proxy;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import java.time.Duration;

/**
 * A client's request body as the attempts send it (nginx's request buffering, bounded by the upstream's
 * {@code retry_buffer}): held whole when small and the request idempotent, so a failed attempt can be replayed on
 * another server; else streamed once from the client through a {@link ClientBody}, the client paused until a
 * connection is up. {@code Expect: 100-continue} is answered once Tether is about to read it (nginx and Envoy do the
 * same). One per exchange with a body, its own completion and failure handler; event-loop confined.
 */
final class RequestBody implements ClientBody.Failure {

  private final ProxyExchange x;
  private boolean expectContinue;
  /** The whole body once read, when held; else null. */
  private Buffer held;
  /** The body as the client sends it, when not held; else null. */
  private ClientBody stream;

  RequestBody(ProxyExchange x) {
    this.x = x;
    HttpServerRequest req = x.req;
    expectContinue = req.version() != HttpVersion.HTTP_1_0
        && "100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT));
  }

  /**
   * Reads the body whole, policed as a streamed one ({@link ClientBody}: a silence of {@code timeouts.body} is a
   * 408); the first attempt starts once it is in.
   *
   * @param length  its {@code Content-Length} (at most the upstream's {@code retry_buffer})
   * @param timeout {@code timeouts.body}
   * @param paused  the request was paused (while the pin was looked up): reading resumes
   */
  void hold(long length, Duration timeout, boolean paused) {
    continueClient();
    // grown as bytes arrive: a length announced is not yet memory spent (nor a 64 KiB buffer per idle stream)
    Buffer whole = Buffer.buffer((int) Math.min(length, 16_384));
    ClientBody reading = new ClientBody(x.req, x.ctx.vertx(), length, timeout, x.ctx.responseTimeoutMillis(), this);
    reading.handler(whole::appendBuffer);
    reading.endHandler(v -> {
      held = whole;
      x.nextAttempt(null);
    });
    if (paused) {
      x.req.resume();
    }
  }

  /**
   * Streams the body once, policed by a {@link ClientBody}.
   *
   * @param maxBytes {@code limits.max_body_bytes}; {@code timeout} {@code timeouts.body}
   */
  void stream(long maxBytes, Duration timeout) {
    HttpServerRequest req = x.req;
    req.pause(); // until a connection is up: a connect failure can then move any request elsewhere
    stream = new ClientBody(req, x.ctx.vertx(), maxBytes, timeout, x.ctx.responseTimeoutMillis(), this);
    if (x.chunked) {
      StrictRequestDecoder.onMalformedBody(req.connection(), problem -> failed(400, "malformed chunked body: "
          + problem));
    }
  }

  /** It is held: another attempt can send it again. */
  boolean held() {
    return held != null;
  }

  /** Sends the body on {@code out}: the held copy, or the client's stream. @return when all of it is sent */
  Future<Void> send(HttpClientRequest out) {
    if (held != null) {
      return out.end(held);
    }
    continueClient();
    Future<Void> sent = stream.pipe().endOnFailure(false).to(out);
    sent.onFailure(err -> out.reset());
    return sent;
  }

  /** The client closed or reset mid-body: {@link ProxyExchange#clientClosed}. */
  @Override
  public void clientClosed() {
    x.clientClosed();
  }

  /** The client's body broke: too large, too slow, malformed, or the backend stopped reading it. */
  @Override
  public void failed(int status, String message) {
    x.fail(status, message, true);
    Attempt a = x.attempt;
    if (a != null && a.request != null) {
      a.request.reset();
    }
  }

  private void continueClient() {
    if (expectContinue && !x.req.response().headWritten()) {
      expectContinue = false;
      x.req.response().writeContinue();
    }
  }
}
