package tether.tls;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * One certificate chain and its private key, read and checked at config load ({@link Certificates#load}): the PEM
 * text itself (so a reload that reads a renewed file compares unequal and is applied), the DNS names the leaf
 * certificate answers for (subjectAltName, else the subject CN; {@code *.example.com} wildcards), its expiry and
 * the SHA-256 fingerprint of the leaf. {@link #toString()} never shows the key.
 */
public record CertificateKeyPair(Path certFile, Path keyFile, String certPem, String keyPem, List<String> names,
                                 Instant notAfter, String fingerprint) {

  public CertificateKeyPair {
    names = List.copyOf(names);
  }

  @Override
  public String toString() {
    return "CertificateKeyPair[" + certFile + ", key " + keyFile + ", names " + names + ", not after " + notAfter
        + ", sha256 " + fingerprint + "]";
  }
}
