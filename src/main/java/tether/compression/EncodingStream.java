package tether.compression;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * The backend's body, compressed chunk by chunk as it arrives: a {@link ReadStream} over the source whose
 * pause, resume and fetch are the source's, so a pipe's backpressure reaches the backend connection unchanged and
 * no more than one chunk plus the coder's window is ever held. What the coder holds back is flushed once the
 * event loop is done with the current read (a task queued behind it): a backend that sends a page in parts (PHP's
 * {@code flush()}) has each part reach the browser, while a fast stream of chunks is not cut into tiny blocks.
 * The coder is freed at the end, on a source failure, or by {@link #close()}.
 */
final class EncodingStream implements ReadStream<Buffer> {

  private final ReadStream<Buffer> source;
  private final Encoder encoder;
  private final Context context;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private boolean flushQueued;
  private boolean closed;

  EncodingStream(ReadStream<Buffer> source, Encoder encoder, Context context) {
    this.source = source;
    this.encoder = encoder;
    this.context = context;
    source.exceptionHandler(this::failed);
    source.endHandler(v -> ended());
  }

  @Override
  public EncodingStream handler(Handler<Buffer> handler) {
    this.handler = handler;
    source.handler(handler == null ? null : this::data);
    return this;
  }

  @Override
  public EncodingStream endHandler(Handler<Void> endHandler) {
    this.endHandler = endHandler;
    return this;
  }

  @Override
  public EncodingStream exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  @Override
  public EncodingStream pause() {
    source.pause();
    return this;
  }

  @Override
  public EncodingStream resume() {
    source.resume();
    return this;
  }

  @Override
  public EncodingStream fetch(long amount) {
    source.fetch(amount);
    return this;
  }

  /** Frees the coder now (the exchange ended without the source ending); later data is dropped. */
  void close() {
    if (!closed) {
      closed = true;
      encoder.close();
    }
  }

  private void data(Buffer chunk) {
    if (closed) {
      return;
    }
    Buffer out;
    try {
      out = encoder.encode(chunk);
    } catch (RuntimeException e) {
      failed(e);
      return;
    }
    emit(out);
    if (!flushQueued) {
      flushQueued = true;
      context.runOnContext(v -> flush());
    }
  }

  private void flush() {
    flushQueued = false;
    if (!closed) {
      Buffer out;
      try {
        out = encoder.flush();
      } catch (RuntimeException e) {
        failed(e);
        return;
      }
      emit(out);
    }
  }

  private void ended() {
    if (closed) {
      return;
    }
    Buffer tail;
    try {
      tail = encoder.finish();
    } catch (RuntimeException e) {
      failed(e);
      return;
    }
    closed = true;
    emit(tail);
    Handler<Void> h = endHandler;
    if (h != null) {
      h.handle(null);
    }
  }

  private void failed(Throwable err) {
    close();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(err);
    }
  }

  private void emit(Buffer out) {
    Handler<Buffer> h = handler;
    if (out.length() > 0 && h != null) {
      h.handle(out);
    }
  }
}
