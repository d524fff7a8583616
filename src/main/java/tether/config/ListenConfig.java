package tether.config;

/**
 * One {@code listen[]} entry.
 *
 * @param tls               certificates and ALPN when this is an HTTPS listener; null for plain HTTP
 * @param h2c               plain listener only: HTTP/2 with prior knowledge (RFC 9113 §3.3) next to HTTP/1.1
 * @param redirectHttpsPort plain listener only: 0, or answer every request but ACME HTTP-01 challenges with a 308
 *                          to {@code https://host[:port]/same-uri} (port left out when 443)
 * @param hsts              TLS listener only: the Strict-Transport-Security header added to responses, or null
 */
public record ListenConfig(String address, int port, TlsConfig tls, boolean h2c, int redirectHttpsPort,
                           Hsts hsts) {

  /** Plain HTTP/1.1 on {@code address:port}. */
  public ListenConfig(String address, int port) {
    this(address, port, null, false, 0, null);
  }

  public boolean secure() {
    return tls != null;
  }

  /** The scheme and address as the start log and {@code tether check} say them. */
  public String url(int actualPort) {
    return (secure() ? "https" : "http") + "://" + address + ":" + actualPort;
  }
}
