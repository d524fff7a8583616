package tether.tls;

import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/**
 * Which TLS implementation terminates connections. {@code OPENSSL} is BoringSSL through Netty's tcnative (shipped
 * for linux-x86_64), {@code JDK} the JDK's own SSLEngine; {@code AUTO} (the default) takes BoringSSL when it loads,
 * as per CPU second it did 1.44x the full handshakes, 1.25x the h2 requests and 1.18x the bytes of the JDK's (and
 * as many HTTPS keep-alive requests) in {@code bench/tls.sh} (README, "Benchmarks"), and falls back to the JDK's
 * elsewhere.
 */
public enum TlsEngine {
  AUTO, OPENSSL, JDK;

  /** AUTO made concrete for this process. */
  public TlsEngine resolve() {
    if (this != AUTO) {
      return this;
    }
    return opensslAvailable() ? OPENSSL : JDK;
  }

  /** BoringSSL loaded, with ALPN (needed for h2). */
  public static boolean opensslAvailable() {
    try {
      return OpenSSLEngineOptions.isAvailable() && OpenSSLEngineOptions.isAlpnAvailable();
    } catch (LinkageError e) {
      return false;
    }
  }

  SSLEngineOptions vertxOptions() {
    return resolve() == OPENSSL ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
  }
}
