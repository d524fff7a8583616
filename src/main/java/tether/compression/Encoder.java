package tether.compression;

import io.vertx.core.buffer.Buffer;

/**
 * One response's compressor, fed chunk by chunk on the event loop. Each call returns what is ready to send (maybe
 * nothing); the compressor's memory is bounded (its window), never the whole body.
 */
interface Encoder {

  /** Compresses {@code chunk}; the coder may hold some of it back until {@link #flush()} or {@link #finish()}. */
  Buffer encode(Buffer chunk);

  /** All that was given so far, decodable by the client now (gzip's sync flush, zstd's flush). */
  Buffer flush();

  /** The end of the stream (gzip's trailer, zstd's last block); frees the coder. */
  Buffer finish();

  /** Frees the coder without ending the stream (the exchange failed); safe to call more than once. */
  void close();
}
