package tether.tls;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.impl.KeyStoreHelper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Reads a PEM certificate chain and its private key and checks that they can serve, the way {@code nginx -t} and
 * Caddy's config load do, plus expiry: parsing is Vert.x's own ({@link PemKeyCertOptions}: PKCS#8
 * {@code BEGIN PRIVATE KEY}, PKCS#1 {@code BEGIN RSA PRIVATE KEY}, SEC1 {@code BEGIN EC PRIVATE KEY}; RSA and EC keys),
 * so what {@code tether check} accepts is exactly what the listener loads. Blocking file reads: call it off the
 * event loop (config load does).
 */
public final class Certificates {

  private Certificates() {}

  /**
   * @param certFile PEM, the leaf certificate first, then the intermediates (as Let's Encrypt's fullchain.pem)
   * @param keyFile  PEM private key of the leaf, unencrypted
   * @param now      expiry is checked against it
   * @throws CertificateException naming the file and the reason: unreadable, no PEM block, cannot be parsed,
   *                              encrypted key, key not matching the certificate, expired or not yet valid
   */
  public static CertificateKeyPair load(Path certFile, Path keyFile, Instant now) throws CertificateException {
    String certPem = read(certFile, "certificate");
    String keyPem = read(keyFile, "key");
    if (!certPem.contains("-----BEGIN CERTIFICATE-----")) {
      throw new CertificateException(certFile + ": no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    if (keyPem.contains("ENCRYPTED PRIVATE KEY") || keyPem.contains("Proc-Type: 4,ENCRYPTED")) {
      throw new CertificateException(keyFile + ": the private key is encrypted; Tether reads unencrypted keys only"
          + " (decrypt it with: openssl pkey -in " + keyFile + " -out KEY)");
    }
    if (!keyPem.contains("PRIVATE KEY-----")) {
      throw new CertificateException(keyFile + ": no PEM private key (expected -----BEGIN PRIVATE KEY-----,"
          + " -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
    }
    X509Certificate leaf;
    PrivateKey key;
    try {
      KeyStore store = new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem))
          .loadKeyStore(null);
      String alias = store.aliases().nextElement();
      key = (PrivateKey) store.getKey(alias, KeyStoreHelper.DUMMY_PASSWORD.toCharArray());
      leaf = (X509Certificate) store.getCertificateChain(alias)[0];
    } catch (Exception e) {
      throw new CertificateException(certFile + " / " + keyFile + ": cannot be loaded: " + reason(e));
    }
    if (!matches(key, leaf)) {
      throw new CertificateException(keyFile + ": the private key does not belong to the certificate in " + certFile
          + " (its first certificate must be the one the key was made for)");
    }
    if (leaf.getNotAfter().toInstant().isBefore(now)) {
      throw new CertificateException(certFile + ": the certificate expired on " + leaf.getNotAfter().toInstant());
    }
    if (leaf.getNotBefore().toInstant().isAfter(now)) {
      throw new CertificateException(certFile + ": the certificate is not valid before "
          + leaf.getNotBefore().toInstant());
    }
    return new CertificateKeyPair(certFile, keyFile, certPem, keyPem, names(leaf), leaf.getNotAfter().toInstant(),
        fingerprint(leaf));
  }

  private static String read(Path file, String what) throws CertificateException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new CertificateException(file + ": cannot read the " + what + ": no such file");
    } catch (AccessDeniedException e) {
      throw new CertificateException(file + ": cannot read the " + what + ": permission denied");
    } catch (IOException e) {
      throw new CertificateException(file + ": cannot read the " + what + ": " + e.getMessage());
    }
  }

  /** The key signs and the certificate's public key verifies: works for RSA and EC alike. */
  private static boolean matches(PrivateKey key, X509Certificate cert) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> null;
    };
    if (algorithm == null) {
      return true; // Vert.x loads RSA and EC keys only, so this is not reached
    }
    try {
      byte[] probe = "tether key/certificate check".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false; // e.g. an EC key with an RSA certificate
    }
  }

  /** DNS subjectAltNames, else the subject's CNs (as Vert.x's SNI does), lower case. */
  static List<String> names(X509Certificate cert) {
    List<String> names = new ArrayList<>();
    try {
      if (cert.getSubjectAlternativeNames() != null) {
        for (List<?> san : cert.getSubjectAlternativeNames()) {
          if (san.size() == 2 && san.get(0) instanceof Integer type && type == 2) {
            names.add(san.get(1).toString().toLowerCase(Locale.ROOT));
          }
        }
      }
      if (names.isEmpty()) {
        for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
          if (rdn.getType().equalsIgnoreCase("CN")) {
            names.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
          }
        }
      }
    } catch (java.security.cert.CertificateParsingException | javax.naming.InvalidNameException e) {
      // no usable names: the certificate can still be the default one
    }
    return names;
  }

  private static String fingerprint(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      return "?";
    }
  }

  private static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && (t.getMessage() == null || t.getMessage().startsWith("java."))) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
