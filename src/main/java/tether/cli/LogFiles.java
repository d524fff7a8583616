package tether.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AsyncAppenderBase;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.rolling.RollingFileAppender;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * The process's log files. {@link #reopen} opens each again by its name, for logrotate's {@code postrotate
 * kill -USR1} (nginx's USR1): after a rename, lines go to a new file at the configured path instead of the renamed
 * one. It covers the access log ({@code access_log.path}) and any file appender of a custom Logback configuration,
 * also behind an async appender; rolling appenders rotate themselves and are left alone. {@link #flushAndClose}
 * runs last, before the exit.
 */
final class LogFiles {

  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(LogFiles.class);

  private LogFiles() {}

  /** @return the paths reopened; a file that cannot be opened is logged and keeps its old stream */
  static List<String> reopen() {
    List<String> reopened = new ArrayList<>(tether.accesslog.AccessLog.reopenAll());
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    for (Logger logger : context.getLoggerList()) {
      for (Iterator<Appender<ILoggingEvent>> it = logger.iteratorForAppenders(); it.hasNext(); ) {
        reopen(it.next(), reopened);
      }
    }
    LOG.info("reopened log files: {}", reopened.isEmpty() ? "none (logging to standard output)" : reopened);
    return reopened;
  }

  /** Writes out what the asynchronous appenders still hold (each waits up to a second) and closes the files. */
  static void flushAndClose() {
    ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
  }

  private static void reopen(Appender<ILoggingEvent> appender, List<String> reopened) {
    if (appender instanceof AsyncAppenderBase<ILoggingEvent> async) {
      for (Iterator<Appender<ILoggingEvent>> it = async.iteratorForAppenders(); it.hasNext(); ) {
        reopen(it.next(), reopened);
      }
    } else if (appender instanceof FileAppender<ILoggingEvent> file && !(appender instanceof RollingFileAppender)
        && file.getFile() != null && !reopened.contains(file.getFile())) {
      try {
        file.openFile(file.getFile()); // under the appender's write lock; closes the old stream
        reopened.add(file.getFile());
      } catch (IOException e) {
        LOG.error("cannot reopen log file {}: {}", file.getFile(), e.toString());
      }
    }
  }
}
