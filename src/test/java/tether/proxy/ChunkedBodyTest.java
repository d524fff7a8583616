package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The strict chunked decoder, without sockets: each body is fed whole and again one byte at a time (a body split
 * anywhere by TCP must decode the same), and what follows the body stays for the next request.
 */
class ChunkedBodyTest {

  static List<Arguments> wellFormed() {
    return List.of(
        Arguments.of("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
        Arguments.of("two chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde"),
        Arguments.of("upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
        Arguments.of("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
        Arguments.of("extension", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello"),
        Arguments.of("BWS before the extension", "5 ;a=\"q s\"\r\nhello\r\n0\r\n\r\n", "hello"),
        Arguments.of("trailer fields", "5\r\nhello\r\n0\r\nX-T: 1\r\nY: \r\n\r\n", "hello"),
        Arguments.of("empty body", "0\r\n\r\n", ""),
        Arguments.of("CRLF inside data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wellFormed")
  void decodes(String name, String body, String data) {
    String next = "GET /next HTTP/1.1\r\n";
    for (boolean byteByByte : new boolean[] {false, true}) {
      Result r = feed(body + next, byteByByte);
      assertThat(r.progress).as(name).isEqualTo(ChunkedBody.Progress.DONE);
      assertThat(r.data).as(name).isEqualTo(data);
      assertThat(r.rest).as(name + ": the next request is left alone").isEqualTo(next);
    }
  }

  static List<Arguments> malformed() {
    return List.of(
        Arguments.of("size overflows 64 bits (issue 11)", "10000000000000005\r\nhello\r\n0\r\n\r\n",
            "chunk size too large"),
        Arguments.of("size of 16 hex digits", "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", "chunk size too large"),
        Arguments.of("size 2^59", "800000000000000\r\nx\r\n", "chunk size too large"),
        Arguments.of("data longer than its size (issue 11)", "3\r\nhello\r\n0\r\n\r\n", "chunk data longer"),
        Arguments.of("junk after the size", "5x\r\nhello\r\n0\r\n\r\n", "invalid character after a chunk size"),
        Arguments.of("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "invalid character after a chunk size"),
        Arguments.of("minus sign", "-5\r\nhello\r\n0\r\n\r\n", "not a hex number"),
        Arguments.of("plus sign", "+5\r\nhello\r\n0\r\n\r\n", "not a hex number"),
        Arguments.of("empty size", "\r\nhello\r\n0\r\n\r\n", "not a hex number"),
        Arguments.of("space inside the size", "5 5\r\nhello\r\n0\r\n\r\n", "invalid character after a chunk size"),
        Arguments.of("bare LF after the size", "5\nhello\r\n0\r\n\r\n", "bare LF"),
        Arguments.of("CR without LF after the size", "5\rhello\r\n0\r\n\r\n", "CR without LF"),
        Arguments.of("bare LF after the data", "5\r\nhello\n0\r\n\r\n", "bare LF"),
        Arguments.of("no CRLF after the data", "5\r\nhello0\r\n\r\n", "chunk data longer"),
        Arguments.of("bare LF ending an extension", "5;a=b\nhello\r\n0\r\n\r\n", "bare LF"),
        Arguments.of("control byte in an extension", "5;a=\u0001\r\nhello\r\n0\r\n\r\n", "control character"),
        Arguments.of("over-long extension", "5;" + "a".repeat(ChunkedBody.MAX_LINE) + "\r\nhello\r\n0\r\n\r\n",
            "chunk size line too long"),
        Arguments.of("trailer without a colon", "0\r\nnot a field\r\n\r\n", "invalid trailer field name"),
        Arguments.of("trailer starting with a space", "0\r\n X: 1\r\n\r\n", "invalid trailer field"),
        Arguments.of("trailer ending in a bare LF", "0\r\nX: 1\n\r\n", "bare LF"),
        Arguments.of("bare LF ending the body", "0\r\n\n", "bare LF"),
        Arguments.of("CR without LF ending the body", "0\r\n\rX", "not ended by CRLF"),
        Arguments.of("CR without LF after the data", "5\r\nhello\rX0\r\n\r\n", "not followed by CRLF"),
        Arguments.of("control byte in a trailer", "0\r\nX: a\u0000b\r\n\r\n", "control character"),
        Arguments.of("trailers over the limit", "0\r\n" + "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(30)
            + "\r\n", "trailer section larger than 1024 bytes"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void refuses(String name, String body, String problem) {
    for (boolean byteByByte : new boolean[] {false, true}) {
      Result r = feed(body + "GET /SMUGGLED HTTP/1.1\r\n\r\n", byteByByte);
      assertThat(r.progress).as(name).isEqualTo(ChunkedBody.Progress.MALFORMED);
      assertThat(r.problem).as(name).contains(problem);
      assertThat(r.ended).as(name + ": never a complete body").isFalse();
    }
  }

  private record Result(ChunkedBody.Progress progress, String data, String rest, String problem, boolean ended) {}

  private static Result feed(String text, boolean byteByByte) {
    ChunkedBody decoder = new ChunkedBody(1024);
    ByteBuf all = Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
    StringBuilder data = new StringBuilder();
    boolean ended = false;
    ChunkedBody.Progress progress = ChunkedBody.Progress.MORE;
    ByteBuf in = Unpooled.buffer();
    while (all.isReadable() && progress == ChunkedBody.Progress.MORE) {
      in.writeBytes(all, byteByByte ? 1 : all.readableBytes());
      List<Object> out = new ArrayList<>();
      progress = decoder.decode(in, out);
      for (Object o : out) {
        if (o instanceof HttpContent c) {
          data.append(c.content().toString(StandardCharsets.ISO_8859_1));
          c.release();
        }
        ended |= o instanceof LastHttpContent;
      }
    }
    in.writeBytes(all);
    String rest = in.toString(StandardCharsets.ISO_8859_1);
    in.release();
    all.release();
    return new Result(progress, data.toString(), rest, decoder.problem(), ended);
  }
}
