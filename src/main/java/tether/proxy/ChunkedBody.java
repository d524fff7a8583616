package tether.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * A strict decoder for one chunked request body (RFC 9112 §7.1), fed the bytes after the head. Netty's own is
 * lenient where smuggling lives: its chunk size wraps past 32 bits ({@code 10000000000000005} reads as 5), and it
 * accepts bare LF. Here every deviation ends the body as malformed: a size that is not 1*HEXDIG or exceeds 2^59,
 * anything but BWS before {@code ;}, a size line or extension over {@link #MAX_LINE} bytes, control characters in an
 * extension, a line not ended by CRLF, data longer than its size, a trailer field that is not {@code name: value},
 * trailers over the header limit. Emits the data as {@link DefaultHttpContent} slices and, once the last chunk and
 * trailers are read, {@link LastHttpContent#EMPTY_LAST_CONTENT} (trailers are dropped: Tether re-frames bodies).
 * Same strictness as HAProxy's h1 parser and nginx's {@code ngx_http_parse_chunked}.
 */
final class ChunkedBody {

  /** The longest chunk-size line (size and extensions) or trailer line accepted, in bytes. */
  static final int MAX_LINE = 4096;

  /** What {@link #decode} reached. */
  enum Progress { MORE, DONE, MALFORMED }

  private enum State { SIZE, SIZE_BWS, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER_NAME,
    TRAILER_VALUE, TRAILER_LF, END_LF }

  private static final long MAX_SIZE = 1L << 59;

  private final int maxTrailerBytes;
  private State state = State.SIZE;
  private long size;
  private int digits;
  private int lineBytes;
  private int trailerBytes;
  private String problem;

  /** @param maxTrailerBytes the trailer section's limit, in bytes (Tether uses {@code limits.max_header_bytes}) */
  ChunkedBody(int maxTrailerBytes) {
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /** Why the body is malformed, once {@link #decode} returned {@link Progress#MALFORMED}. */
  String problem() {
    return problem;
  }

  /**
   * Consumes what it can of {@code in}, appending decoded content to {@code out}; bytes after the body's end stay in
   * {@code in} (they belong to the next request).
   */
  Progress decode(ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      if (state == State.DATA) {
        int n = (int) Math.min(in.readableBytes(), size);
        out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
        size -= n;
        if (size == 0) {
          state = State.DATA_CR;
        }
        continue;
      }
      byte b = in.readByte();
      String bad = step(b);
      if (bad != null) {
        problem = bad;
        return Progress.MALFORMED;
      }
      if (state == null) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        return Progress.DONE;
      }
    }
    return Progress.MORE;
  }

  /** One byte of framing; returns why it is wrong, or null. Sets {@code state} to null at the body's end. */
  private String step(byte b) {
    if (state != State.DATA_CR && state != State.DATA_LF && ++lineBytes > MAX_LINE) {
      return state.ordinal() >= State.TRAILER_START.ordinal() ? "trailer line too long" : "chunk size line too long";
    }
    switch (state) {
      case SIZE -> {
        int digit = Character.digit(b, 16);
        if (digit >= 0 && b < 0x80) {
          if (size >= MAX_SIZE >> 4) {
            return "chunk size too large";
          }
          size = size * 16 + digit;
          digits++;
          return null;
        }
        if (digits == 0) {
          return "chunk size is not a hex number";
        }
        return afterSize(b);
      }
      case SIZE_BWS -> {
        return isBlank(b) ? null : afterSize(b);
      }
      case EXTENSION -> {
        if (b == '\r') {
          state = State.SIZE_LF;
        } else if (b == '\n') {
          return "chunk size line ends in a bare LF";
        } else if (isControl(b)) {
          return "control character in a chunk extension";
        }
        return null;
      }
      case SIZE_LF -> {
        if (b != '\n') {
          return "CR without LF after a chunk size";
        }
        lineBytes = 0;
        state = size == 0 ? State.TRAILER_START : State.DATA;
        return null;
      }
      case DATA_CR -> {
        state = State.DATA_LF;
        return b == '\r' ? null : b == '\n' ? "chunk data followed by a bare LF"
            : "chunk data longer than its size (no CRLF after it)";
      }
      case DATA_LF -> {
        if (b != '\n') {
          return "chunk data not followed by CRLF";
        }
        state = State.SIZE;
        size = 0;
        digits = 0;
        lineBytes = 0;
        return null;
      }
      case TRAILER_START -> {
        if (b == '\r') {
          state = State.END_LF;
          return null;
        }
        if (b == '\n') {
          return "chunked body ends in a bare LF";
        }
        state = State.TRAILER_NAME;
        return tokenChar(b) ? countTrailer() : "invalid trailer field";
      }
      case TRAILER_NAME -> {
        if (b == ':') {
          state = State.TRAILER_VALUE;
          return countTrailer();
        }
        return tokenChar(b) ? countTrailer() : "invalid trailer field name";
      }
      case TRAILER_VALUE -> {
        if (b == '\r') {
          state = State.TRAILER_LF;
          return null;
        }
        if (b == '\n') {
          return "trailer line ends in a bare LF";
        }
        return isControl(b) ? "control character in a trailer field" : countTrailer();
      }
      case TRAILER_LF -> {
        if (b != '\n') {
          return "trailer line not ended by CRLF";
        }
        lineBytes = 0;
        state = State.TRAILER_START;
        return null;
      }
      case END_LF -> {
        if (b != '\n') {
          return "chunked body not ended by CRLF";
        }
        state = null;
        return null;
      }
      default -> throw new IllegalStateException(String.valueOf(state));
    }
  }

  private String afterSize(byte b) {
    if (isBlank(b)) {
      state = State.SIZE_BWS;
    } else if (b == ';') {
      state = State.EXTENSION;
    } else if (b == '\r') {
      state = State.SIZE_LF;
    } else if (b == '\n') {
      return "chunk size line ends in a bare LF";
    } else {
      return "invalid character after a chunk size";
    }
    return null;
  }

  private String countTrailer() {
    return ++trailerBytes > maxTrailerBytes ? "trailer section larger than " + maxTrailerBytes + " bytes" : null;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t';
  }

  /** CTLs but HTAB (RFC 9110 §5.5: field values and extensions are VCHAR, SP, HTAB and obs-text). */
  private static boolean isControl(byte b) {
    return (b >= 0 && b < ' ' && b != '\t') || b == 0x7f;
  }

  /** tchar (RFC 9110 §5.6.2). */
  private static boolean tokenChar(byte b) {
    return b > ' ' && b < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(b) < 0;
  }
}
