package tether.accesslog;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A reusable byte buffer one access-log line is written into, byte by byte (no String built per line): ASCII
 * text, decimal numbers, zero-padded milliseconds and {@code \xHH} escapes; an {@link OutputStream} too, for
 * Jackson's generator (JSON lines). Thread confined, like its encoder.
 */
final class AsciiLine extends OutputStream {

  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private byte[] buf;
  private int len;

  AsciiLine(int capacity) {
    buf = new byte[capacity];
  }

  AsciiLine reset() {
    len = 0;
    return this;
  }

  /** Appends a string whose chars are all below 0x80 (the caller escapes anything else). */
  AsciiLine ascii(String s) {
    int n = s.length();
    ensure(n);
    for (int i = 0; i < n; i++) {
      buf[len++] = (byte) s.charAt(i);
    }
    return this;
  }

  AsciiLine bytes(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, len, b.length);
    len += b.length;
    return this;
  }

  AsciiLine byteValue(int c) {
    ensure(1);
    buf[len++] = (byte) c;
    return this;
  }

  /**
   * {@code s} as nginx escapes a variable in an {@code escape=default} log format: {@code "} and {@code \} get a
   * backslash, control bytes, DEL and non-ASCII become {@code \xHH} (a char below 0x100 is a header byte as Netty read
   * it; anything above is escaped as its UTF-8 bytes).
   */
  AsciiLine escaped(String s) {
    int n = s.length();
    ensure(4 * n);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        buf[len++] = '\\';
        buf[len++] = (byte) c;
      } else if (c >= 0x20 && c < 0x7f) {
        buf[len++] = (byte) c;
      } else if (c < 0x100) {
        hexEscape(c);
      } else {
        for (byte x : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
          hexEscape(x & 0xff);
        }
      }
    }
    return this;
  }

  /** {@code \xHH}, lower-case hex, as nginx escapes a byte. */
  AsciiLine hexEscape(int c) {
    ensure(4);
    buf[len++] = '\\';
    buf[len++] = 'x';
    buf[len++] = HEX[(c >> 4) & 0xf];
    buf[len++] = HEX[c & 0xf];
    return this;
  }

  /** A non-negative or negative decimal number. */
  AsciiLine number(long v) {
    if (v < 0) {
      if (v == Long.MIN_VALUE) {
        return ascii(Long.toString(v));
      }
      byteValue('-');
      v = -v;
    }
    ensure(19);
    int digits = 1;
    for (long x = v; x >= 10; x /= 10) {
      digits++;
    }
    for (int i = len + digits - 1; i >= len; i--) {
      buf[i] = (byte) ('0' + v % 10);
      v /= 10;
    }
    len += digits;
    return this;
  }

  /** 0..999 as three digits, zero-padded (the fraction of a second in milliseconds). */
  AsciiLine digits3(int v) {
    ensure(3);
    buf[len++] = (byte) ('0' + v / 100);
    buf[len++] = (byte) ('0' + v / 10 % 10);
    buf[len++] = (byte) ('0' + v % 10);
    return this;
  }

  @Override
  public void write(int b) {
    byteValue(b);
  }

  @Override
  public void write(byte[] b, int off, int n) {
    ensure(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
  }

  /** The line's bytes are {@code [0, length())} of this array, until the next change. */
  byte[] array() {
    return buf;
  }

  int length() {
    return len;
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
  }
}
