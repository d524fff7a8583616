package tether.proxy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tether.config.AccessLogConfig;

/** One line per request, combined-like text or JSON, written through the "tether.access" logger. */
public final class AccessLog implements ProxyListener {

  private static final Logger LOG = LoggerFactory.getLogger("tether.access");
  private static final DateTimeFormatter CLF =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT);

  private final boolean json;

  public AccessLog(AccessLogConfig config) {
    this.json = config.format() == AccessLogConfig.Format.JSON;
    if (config.path() != null) {
      toFile(config.path());
    }
  }

  /** Sends the access logger's lines to a file instead of standard output, still without blocking. */
  private static void toFile(String path) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    FileAppender<ILoggingEvent> file = new FileAppender<>();
    file.setContext(context);
    file.setFile(path);
    file.setEncoder(encoder);
    file.start();
    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setNeverBlock(true);
    async.setDiscardingThreshold(0);
    async.addAppender(file);
    async.start();
    ch.qos.logback.classic.Logger logger = context.getLogger("tether.access");
    logger.detachAndStopAllAppenders();
    logger.addAppender(async);
  }

  @Override
  public void exchangeEnded(ExchangeRecord r) {
    if (LOG.isInfoEnabled()) {
      LOG.info(json ? json(r) : text(r));
    }
  }

  static String text(ExchangeRecord r) {
    return r.clientAddress() + " - - [" + ZonedDateTime.now(ZoneOffset.UTC).format(CLF) + "] \"" + r.method() + " "
        + r.uri() + " " + r.protocol() + "\" " + r.status() + " " + r.bytesSent() + " \"" + dash(r.referer())
        + "\" \"" + dash(r.userAgent()) + "\" upstream=" + dash(r.upstream()) + " server=" + dash(r.server())
        + " upstream_time=" + seconds(r.upstreamNanos()) + " time=" + seconds(r.totalNanos()) + " sticky="
        + dash(r.sticky()) + " attempts=" + r.attempts() + (r.truncated() ? " truncated" : "");
  }

  static String json(ExchangeRecord r) {
    return "{\"ts\":\"" + ZonedDateTime.now(ZoneOffset.UTC) + "\",\"client\":" + quote(r.clientAddress())
        + ",\"method\":" + quote(r.method()) + ",\"uri\":" + quote(r.uri()) + ",\"protocol\":"
        + quote(r.protocol()) + ",\"status\":" + r.status() + ",\"bytes_sent\":" + r.bytesSent()
        + ",\"bytes_received\":" + r.bytesReceived() + ",\"upstream\":" + quote(r.upstream()) + ",\"server\":"
        + quote(r.server()) + ",\"upstream_time\":" + (r.upstreamNanos() < 0 ? "null" : seconds(r.upstreamNanos())) + ",\"time\":"
        + seconds(r.totalNanos()) + ",\"sticky\":" + quote(r.sticky()) + ",\"attempts\":" + r.attempts()
        + ",\"truncated\":" + r.truncated() + ",\"referer\":" + quote(r.referer()) + ",\"user_agent\":"
        + quote(r.userAgent()) + "}";
  }

  private static String dash(String s) {
    return s == null ? "-" : s;
  }

  private static String seconds(long nanos) {
    return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.3f", nanos / 1e9);
  }

  private static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
