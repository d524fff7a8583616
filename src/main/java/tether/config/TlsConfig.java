package tether.config;

import java.util.List;
import tether.tls.CertificateKeyPair;
import tether.tls.TlsEngine;

/**
 * {@code listen[].tls}: the certificates (read and checked at load, so a reload re-reads renewed files), the first
 * being the one served without SNI or for a name no other covers; {@code http2}: offer {@code h2} by ALPN.
 */
public record TlsConfig(List<CertificateKeyPair> certificates, TlsEngine engine, boolean http2) {

  public TlsConfig {
    certificates = List.copyOf(certificates);
  }
}
