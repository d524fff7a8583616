package tether.accesslog;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import tether.proxy.ExchangeRecord;

/**
 * Encodes one exchange as one access-log line, in bytes ready to write. Text is nginx's combined format with
 * millisecond time and Tether's fields appended ({@code host="..." upstream=app server=web2
 * upstream_addr="127.0.0.1:8101, 127.0.0.1:8102" upstream_status="connect_failed, 200" ...}); what a client chose
 * (request line, Host, Referer, User-Agent) is escaped as nginx does ({@code "} and {@code \} with a backslash,
 * control and non-ASCII bytes as {@code \xHH}), so a quote in a User-Agent cannot break a parser. JSON lines go
 * through Jackson's generator. One encoder per event loop (thread confined): its buffers are reused.
 */
abstract class LineFormat {

  private static final DateTimeFormatter CLF_SECOND =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

  /** The line for {@code r}, in this encoder's buffer: valid until its next call. */
  abstract AsciiLine encode(ExchangeRecord r, long epochMillis);

  static LineFormat text() {
    return new Text();
  }

  static LineFormat json() {
    return new Json();
  }

  private static final class Text extends LineFormat {
    private final AsciiLine b = new AsciiLine(512);
    private long second = -1;
    private byte[] secondText;

    @Override
    AsciiLine encode(ExchangeRecord r, long epochMillis) {
      b.reset();
      b.ascii(r.clientAddress()).ascii(" - - [");
      time(epochMillis);
      b.ascii("] \"");
      b.escaped(r.method()).ascii(" ");
      b.escaped(r.uri()).ascii(" ").ascii(r.protocol()).ascii("\" ").number(r.status()).ascii(" ")
          .number(r.bytesSent()).ascii(" \"");
      b.escaped(dash(r.referer())).ascii("\" \"");
      b.escaped(dash(r.userAgent())).ascii("\" host=\"");
      b.escaped(dash(r.host())).ascii("\" upstream=");
      b.escaped(dash(r.upstream())).ascii(" server=");
      b.escaped(dash(r.server())).ascii(" upstream_addr=\"");
      b.escaped(dash(r.upstreamAddresses())).ascii("\" upstream_status=\"");
      b.escaped(dash(r.upstreamStatuses())).ascii("\" upstream_time=");
      seconds(r.upstreamNanos()).ascii(" time=");
      seconds(r.totalNanos()).ascii(" sticky=");
      b.escaped(dash(r.sticky())).ascii(" attempts=").number(r.attempts()).ascii(" request_id=");
      b.escaped(dash(r.requestId()));
      if (r.truncated()) {
        b.ascii(" truncated");
      }
      return b.ascii("\n");
    }

    private void time(long epochMillis) {
      long s = epochMillis / 1000;
      if (s != second) {
        second = s;
        secondText = CLF_SECOND.format(Instant.ofEpochSecond(s)).getBytes(StandardCharsets.ISO_8859_1);
      }
      int ms = (int) (epochMillis % 1000);
      b.bytes(secondText).ascii(".").digits3(ms).ascii(" +0000");
    }

    private AsciiLine seconds(long nanos) {
      if (nanos < 0) {
        return b.ascii("-");
      }
      long millis = nanos / 1_000_000;
      return b.number(millis / 1000).ascii(".").digits3((int) (millis % 1000));
    }

  }

  private static final class Json extends LineFormat {
    private static final JsonFactory FACTORY = new JsonFactory();
    private final AsciiLine bytes = new AsciiLine(512);

    @Override
    AsciiLine encode(ExchangeRecord r, long epochMillis) {
      bytes.reset();
      try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
        g.writeStartObject();
        g.writeStringField("ts", Instant.ofEpochMilli(epochMillis).toString());
        g.writeStringField("client", r.clientAddress());
        g.writeStringField("method", r.method());
        g.writeStringField("uri", r.uri());
        g.writeStringField("protocol", r.protocol());
        g.writeNumberField("status", r.status());
        g.writeNumberField("bytes_sent", r.bytesSent());
        g.writeNumberField("bytes_received", r.bytesReceived());
        g.writeStringField("host", r.host());
        g.writeStringField("upstream", r.upstream());
        g.writeStringField("server", r.server());
        g.writeStringField("upstream_addr", r.upstreamAddresses());
        g.writeStringField("upstream_status", r.upstreamStatuses());
        if (r.upstreamNanos() < 0) {
          g.writeNullField("upstream_time");
        } else {
          g.writeNumberField("upstream_time", r.upstreamNanos() / 1_000_000 / 1000.0);
        }
        g.writeNumberField("time", r.totalNanos() / 1_000_000 / 1000.0);
        g.writeStringField("sticky", r.sticky());
        g.writeNumberField("attempts", r.attempts());
        g.writeBooleanField("truncated", r.truncated());
        g.writeStringField("request_id", r.requestId());
        g.writeStringField("referer", r.referer());
        g.writeStringField("user_agent", r.userAgent());
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.byteValue('\n');
    }
  }

  private static String dash(String s) {
    return s == null ? "-" : s;
  }
}
