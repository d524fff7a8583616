package tether.proxy;

/**
 * What the access log says of an exchange's attempts: nginx's {@code $upstream_addr} and {@code $upstream_status},
 * every attempt comma-separated ({@code "10.0.0.1:80, 10.0.0.2:80"}, {@code "connect_failed, 200"}). Nothing is
 * allocated in the usual one-attempt case.
 */
final class AttemptLog {

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
    return String.valueOf(a.backend.address());
  }

  /** An attempt's {@code upstream_status} entry when it did not fail: the status it ended with, or "-". */
  static String outcome(Attempt a, int status) {
    return a.responded ? Integer.toString(status) : "-";
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
