package tether.config;

import java.util.Locale;

/**
 * A configured listener could not bind, named by its key path so the operator knows which one:
 * {@code listen[0] 0.0.0.0:8080: address already in use}, {@code admin 127.0.0.1:9901: permission denied (...)}.
 * One line, like nginx's {@code bind() to 0.0.0.0:80 failed (98: Address already in use)}.
 */
public final class ListenException extends RuntimeException {

  private ListenException(String message, Throwable cause) {
    super(message, cause, false, false);
  }

  /**
   * @param listener the key path: {@code listen[0]}, {@code admin}
   * @param cause    the bind failure (NIO's {@code BindException} or epoll's {@code bind(..) failed: ...})
   */
  public static ListenException of(String listener, String address, int port, Throwable cause) {
    String host = address.contains(":") && !address.startsWith("[") ? "[" + address + "]" : address;
    return new ListenException(listener + " " + host + ":" + port + ": " + reason(cause), cause);
  }

  /** {@code bind(..) failed: Address already in use} -> {@code address already in use}. */
  static String reason(Throwable cause) {
    String m = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int colon = m.lastIndexOf(": ");
    String r = (colon < 0 ? m : m.substring(colon + 2)).strip();
    r = r.isEmpty() ? m : r.substring(0, 1).toLowerCase(Locale.ROOT) + r.substring(1);
    return r.equals("permission denied")
        ? r + " (ports below 1024 need root or CAP_NET_BIND_SERVICE, see deploy/systemd/tether.service)" : r;
  }
}
