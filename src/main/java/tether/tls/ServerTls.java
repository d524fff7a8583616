package tether.tls;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.netty.handler.ssl.OpenSsl;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * TLS on a listener, as Mozilla's "intermediate" configuration (v5.7) has it, which is what nginx, HAProxy and
 * Caddy ship as their recommended default: TLS 1.2 and 1.3 only; AEAD ciphers with forward secrecy (the DHE ones
 * only where the engine has them: BoringSSL does not); session resumption by the
 * engine's session cache and TLS 1.3 tickets (one context per port, shared by every event loop, so a resumed
 * session may land on any of them). ALPN offers {@code h2} then {@code http/1.1}, or {@code http/1.1} alone.
 */
public final class ServerTls {

  /** Mozilla intermediate v5.7, IANA names; filtered by what the engine supports. */
  static final List<String> INTERMEDIATE_CIPHERS = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  static final Set<String> PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  private ServerTls() {}

  /**
   * Makes {@code options} a TLS listener serving {@code certificates} (the first is the default; SNI picks among
   * several).
   *
   * @param http2 offer {@code h2} by ALPN; false: {@code http/1.1} only
   */
  public static HttpServerOptions apply(HttpServerOptions options, List<CertificateKeyPair> certificates,
                                        TlsEngine engine, boolean http2) {
    TlsEngine concrete = engine.resolve();
    options.setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(http2 ? List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1) : List.of(HttpVersion.HTTP_1_1))
        .setKeyCertOptions(new SniKeyCertOptions(certificates))
        .setSni(certificates.size() > 1) // one certificate: no SNI lookup (it would cost a worker-thread hop)
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(PROTOCOLS))
        .setSslEngineOptions(concrete.vertxOptions());
    for (String cipher : ciphers(concrete)) {
      options.addEnabledCipherSuite(cipher);
    }
    return options;
  }

  /** The intermediate ciphers {@code engine} (concrete) supports, in Mozilla's order. */
  static List<String> ciphers(TlsEngine engine) {
    if (engine == TlsEngine.OPENSSL) {
      return INTERMEDIATE_CIPHERS.stream().filter(OpenSsl::isCipherSuiteAvailable).toList();
    }
    try {
      Set<String> supported = Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
      return INTERMEDIATE_CIPHERS.stream().filter(supported::contains).toList();
    } catch (NoSuchAlgorithmException e) {
      return INTERMEDIATE_CIPHERS;
    }
  }

  /** What the summary and the start log say: the engine and the library behind it. */
  public static String describe(TlsEngine engine) {
    TlsEngine concrete = engine.resolve();
    return concrete == TlsEngine.OPENSSL ? "openssl (" + OpenSsl.versionString() + ")"
        : "jdk (" + System.getProperty("java.vendor") + " " + Runtime.version() + ")";
  }
}
