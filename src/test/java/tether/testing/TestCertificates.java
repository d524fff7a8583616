package tether.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TEST-ONLY certificates, made fresh in a temporary directory by the {@code openssl} command (and {@code keytool}
 * for an expired one): a CA, then leaf certificates it signs. No private key made here leaves the test's directory.
 */
public final class TestCertificates {

  /** A certificate chain file and its key file. */
  public record Pair(Path cert, Path key) {}

  private final Path dir;
  private final Path caCert;
  private final Path caKey;
  private int serial;

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.caCert = dir.resolve("test-ca.crt");
    this.caKey = dir.resolve("test-ca.key");
  }

  /** A new test CA in {@code dir}. */
  public static TestCertificates in(Path dir) {
    TestCertificates c = new TestCertificates(dir);
    run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c.caKey.toString(), "-out",
        c.caCert.toString(), "-days", "2", "-subj", "/CN=Tether TEST-ONLY CA");
    return c;
  }

  public Path caCert() {
    return caCert;
  }

  /** An RSA leaf for {@code names} (the first also the CN), key in PKCS#8, cert file = leaf + CA (a chain). */
  public Pair leaf(String file, String... names) {
    return leaf(file, "rsa", false, names);
  }

  /**
   * @param keyType {@code rsa} or {@code ec}
   * @param legacyKey the key in its traditional form: PKCS#1 {@code RSA PRIVATE KEY} or SEC1 {@code EC PRIVATE KEY}
   */
  public Pair leaf(String file, String keyType, boolean legacyKey, String... names) {
    Path key = dir.resolve(file + ".key");
    Path csr = dir.resolve(file + ".csr");
    Path leaf = dir.resolve(file + ".leaf.crt");
    Path chain = dir.resolve(file + ".crt");
    Path ext = dir.resolve(file + ".ext");
    if (keyType.equals("ec")) {
      run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
      if (legacyKey) {
        run(dir, "openssl", "ec", "-in", key.toString(), "-out", key.toString());
      }
    } else {
      run(dir, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
      if (legacyKey) {
        run(dir, "openssl", "rsa", "-in", key.toString(), "-traditional", "-out", key.toString());
      }
    }
    run(dir, "openssl", "req", "-new", "-key", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + names[0]);
    List<String> sans = new ArrayList<>();
    for (String n : names) {
      sans.add(n.matches("[0-9.]+") ? "IP:" + n : "DNS:" + n);
    }
    try {
      Files.writeString(ext, "subjectAltName=" + String.join(",", sans) + "\nextendedKeyUsage=serverAuth\n");
      run(dir, "openssl", "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey",
          caKey.toString(), "-set_serial", String.valueOf(1000 + ++serial), "-days", "2", "-extfile", ext.toString(),
          "-out", leaf.toString());
      Files.writeString(chain, Files.readString(leaf) + Files.readString(caCert));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return new Pair(chain, key);
  }

  /** A self-signed certificate that expired yesterday (keytool can back-date; openssl 3.0 cannot). */
  public Pair expired(String file) {
    Path p12 = dir.resolve(file + ".p12");
    Path cert = dir.resolve(file + ".crt");
    Path key = dir.resolve(file + ".key");
    run(dir, "keytool", "-genkeypair", "-alias", "x", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=expired",
        "-startdate", "-3d", "-validity", "1", "-storetype", "PKCS12", "-keystore", p12.toString(), "-storepass",
        "changeit");
    run(dir, "openssl", "pkcs12", "-in", p12.toString(), "-passin", "pass:changeit", "-nodes", "-nokeys", "-out",
        cert.toString());
    run(dir, "openssl", "pkcs12", "-in", p12.toString(), "-passin", "pass:changeit", "-nodes", "-nocerts", "-out",
        key.toString());
    return new Pair(cert, key);
  }

  static void run(Path dir, String... command) {
    try {
      Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
