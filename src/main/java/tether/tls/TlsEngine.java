package tether.tls;

import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/**
 * Which TLS implementation terminates connections. {@code OPENSSL} is BoringSSL through Netty's tcnative (shipped
 * for linux-x86_64), {@code JDK} the JDK's own SSLEngine; {@code AUTO} (the default) takes BoringSSL when it loads,
 * as it gave about 1.7x the handshakes and 1.3x the HTTPS requests per core of the JDK's on the measurements in
 * the README ("TLS"), and falls back to the JDK's elsewhere.
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
