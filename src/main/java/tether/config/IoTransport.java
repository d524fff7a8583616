package tether.config;

import io.vertx.core.transport.Transport;
import java.util.Locale;

/**
 * {@code transport}: how the event loops wait for and move socket I/O (nginx's {@code events { use ...; }}).
 * {@code EPOLL} is Linux's epoll, {@code NIO} the JDK's selector; {@code AUTO} (the default) is epoll where it loads,
 * else NIO. {@code IO_URING} (Linux's io_uring, Netty's {@code netty-transport-native-io_uring}) is taken only when
 * named: it submits socket reads and writes in batches and served 1.09x the small requests of epoll per core at
 * 0.91x the CPU per request ({@code bench/results/20261201-io-uring}), but on it Netty (4.2.18) sometimes never
 * reports a peer's reset that came while reading from it was paused; {@code tether.proxy.PausedResetSweep} closes
 * such connections within a quarter second ({@code IoUringAttackTest}). Not the default yet.
 */
public enum IoTransport {
  AUTO, IO_URING, EPOLL, NIO;

  /** AUTO made concrete for this process: never AUTO. */
  public IoTransport resolve() {
    if (this != AUTO) {
      return this;
    }
    return EPOLL.available() ? EPOLL : NIO;
  }

  /** Whether this transport loads and works here (io_uring: the kernel lets this process set up a ring). */
  public boolean available() {
    return this == AUTO || vertx().available();
  }

  /** Why {@link #available()} is false, in words; null when it is available. */
  public String unavailableBecause() {
    Throwable cause = this == AUTO ? null : vertx().unavailabilityCause();
    return cause == null ? null : String.valueOf(cause.getMessage() == null ? cause : cause.getMessage());
  }

  /** The Vert.x transport for {@link #resolve()}. */
  public Transport vertx() {
    return switch (resolve()) {
      case IO_URING -> Transport.IO_URING;
      case EPOLL -> Transport.EPOLL;
      default -> Transport.NIO;
    };
  }

  /** The name as written in the configuration: {@code io_uring}, {@code epoll}, {@code nio}, {@code auto}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
