package tether.proxy;

/**
 * What the access log says of an exchange's attempts: nginx's {@code $upstream_addr} and {@code $upstream_status},
 * every attempt comma-separated ({@code "10.0.0.1:80, 10.0.0.2:80"}, {@code "connect_failed, 200"}). Nothing is
 * allocated in the usual one-attempt case.
 */
final class AttemptLog {

  /** "100" to "599": a status's text without a String made per request. */
  private static final String[] STATUS_TEXT = new String[600];

  static {
    for (int s = 100; s < STATUS_TEXT.length; s++) {
      STATUS_TEXT[s] = Integer.toString(s);
    }
  }

  private StringBuilder addresses;
  private StringBuilder outcomes;

  /** An attempt that failed with {@code outcome} (a failure kind's label). */
  void failed(Attempt a, String outcome) {
    if (addresses == null) {
      addresses = new StringBuilder();
      outcomes = new StringBuilder();
    }
    addresses.append(a.backend.address()).append(", ");
    outcomes.append(outcome).append(", ");
    a.failureNoted = true;
  }

  /** An attempt's {@code upstream_addr} entry. */
  static String address(Attempt a) {
    return a.backend.addressText();
  }

  /** An attempt's {@code upstream_status} entry when it did not fail: the status it ended with, or "-". */
  static String outcome(Attempt a, int status) {
    if (!a.responded) {
      return "-";
    }
    return status >= 100 && status < STATUS_TEXT.length ? STATUS_TEXT[status] : Integer.toString(status);
  }

  /** @return {addresses, outcomes}, the last attempt included; nulls without any attempt */
  String[] columns(Attempt last, int status) {
    if (last == null) {
      return new String[2];
    }
    String addr = last.failureNoted ? "" : address(last);
    String outcome = last.failureNoted ? "" : outcome(last, status);
    if (addresses == null) {
      return new String[] {addr, outcome};
    }
    String addrs = addresses + addr;
    String outs = outcomes + outcome;
    return last.failureNoted ? new String[] {addrs.substring(0, addrs.length() - 2),
        outs.substring(0, outs.length() - 2)} : new String[] {addrs, outs};
  }
}
