package tether.tls;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.net.ssl.KeyManagerFactory;

/**
 * Certificates picked by the client's SNI name: an exact name first, then a {@code *.example.com} wildcard one
 * label deep; a name no certificate covers, or no SNI at all, gets the first certificate (nginx's default_server
 * certificate, Caddy's default SNI). Where two certificates name the same host, the earlier one wins. Vert.x's own
 * {@link PemKeyCertOptions} with several pairs picks the default by key type and the duplicate by the last, so
 * Tether maps names itself and lets Vert.x parse each pair.
 */
final class SniKeyCertOptions implements KeyCertOptions {

  private final List<CertificateKeyPair> certificates;

  SniKeyCertOptions(List<CertificateKeyPair> certificates) {
    if (certificates.isEmpty()) {
      throw new IllegalArgumentException("certificates: at least one");
    }
    this.certificates = List.copyOf(certificates);
  }

  @Override
  public KeyCertOptions copy() {
    return this; // immutable
  }

  @Override
  public KeyManagerFactory getKeyManagerFactory(Vertx vertx) throws Exception {
    return factory(certificates.get(0), vertx);
  }

  @Override
  public Function<String, KeyManagerFactory> keyManagerFactoryMapper(Vertx vertx) throws Exception {
    Map<String, KeyManagerFactory> exact = new HashMap<>();
    Map<String, KeyManagerFactory> wildcard = new HashMap<>();
    for (CertificateKeyPair pair : certificates) {
      KeyManagerFactory kmf = factory(pair, vertx);
      for (String name : pair.names()) {
        if (name.startsWith("*.")) {
          wildcard.putIfAbsent(name.substring(2), kmf);
        } else {
          exact.putIfAbsent(name, kmf);
        }
      }
    }
    return serverName -> {
      String name = serverName.toLowerCase(Locale.ROOT);
      KeyManagerFactory kmf = exact.get(name);
      int dot = name.indexOf('.');
      if (kmf == null && dot > 0) {
        kmf = wildcard.get(name.substring(dot + 1));
      }
      return kmf; // null: the default certificate
    };
  }

  private static KeyManagerFactory factory(CertificateKeyPair pair, Vertx vertx) throws Exception {
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(pair.certPem())).setKeyValue(Buffer.buffer(pair.keyPem()))
        .getKeyManagerFactory(vertx);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SniKeyCertOptions other && other.certificates.equals(certificates);
  }

  @Override
  public int hashCode() {
    return certificates.hashCode();
  }
}
