package tether.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tether.cli.TetherCommand;
import tether.config.ConfigException;
import tether.config.ConfigLoader;
import tether.config.ListenConfig;
import tether.config.TetherConfig;
import tether.testing.TestCertificates;

/** Certificates are checked at config load, so at {@code tether check} and on reload: every way a pair cannot serve. */
class CertificateConfigTest {

  @TempDir
  static Path dir;

  static TestCertificates certs;
  static TestCertificates.Pair rsa;

  @BeforeAll
  static void makeCertificates() {
    certs = TestCertificates.in(dir);
    rsa = certs.leaf("site", "site.test", "www.site.test");
  }

  private static TetherConfig load(String tls) throws ConfigException {
    return load(tls, "");
  }

  private static TetherConfig load(String tls, String listenExtra) throws ConfigException {
    return new ConfigLoader(n -> null).parse(dir.resolve("tether.yaml").toString(),
        "listen:\n  - address: 127.0.0.1\n    port: 8443\n    tls: " + tls + "\n" + listenExtra
            + "upstreams:\n  app:\n    servers: [{name: a, address: \"127.0.0.1:9\"}]\n");
  }

  private static String pair(TestCertificates.Pair p) {
    return "{cert: \"" + p.cert() + "\", key: \"" + p.key() + "\"}";
  }

  private static List<String> errors(String tls) {
    try {
      load(tls);
      throw new AssertionError("no error for " + tls);
    } catch (ConfigException e) {
      return e.errors();
    }
  }

  @Test
  void aGoodPairLoadsWithItsNamesExpiryAndDefaults() throws Exception {
    ListenConfig l = load(pair(rsa)).listen().get(0);
    assertThat(l.secure()).isTrue();
    assertThat(l.tls().http2()).isTrue();
    assertThat(l.tls().engine()).isEqualTo(TlsEngine.AUTO);
    CertificateKeyPair c = l.tls().certificates().get(0);
    assertThat(c.names()).containsExactly("site.test", "www.site.test");
    assertThat(c.notAfter()).isAfter(java.time.Instant.now());
    assertThat(c.toString()).doesNotContain("PRIVATE KEY");
  }

  @Test
  void pkcs1AndEcKeysInBothFormsLoad() throws Exception {
    for (TestCertificates.Pair p : List.of(certs.leaf("pkcs1", "rsa", true, "a.test"),
        certs.leaf("ec8", "ec", false, "b.test"), certs.leaf("sec1", "ec", true, "c.test"))) {
      assertThat(Files.readString(p.key())).containsAnyOf("BEGIN RSA PRIVATE KEY", "BEGIN PRIVATE KEY",
          "BEGIN EC PRIVATE KEY");
      assertThat(load(pair(p)).listen().get(0).tls().certificates()).hasSize(1);
    }
  }

  @Test
  void relativePathsAreReadFromTheConfigFilesDirectory() throws Exception {
    assertThat(load("{cert: " + dir.relativize(rsa.cert()) + ", key: " + dir.relativize(rsa.key()) + "}")
        .listen().get(0).tls().certificates()).hasSize(1);
  }

  @Test
  void everyWayAPairCannotServeIsAnErrorNamingFileAndReason() throws Exception {
    TestCertificates.Pair other = certs.leaf("other", "other.test");
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello\n");
    Path garbled = Files.writeString(dir.resolve("garbled.crt"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    TestCertificates.Pair expired = certs.expired("old");
    assertThat(errors("{cert: \"" + rsa.cert() + "\", key: \"" + other.key() + "\"}")).singleElement().asString()
        .contains("tether.yaml:4: listen[0].tls.key: " + other.key())
        .contains("does not belong to the certificate in " + rsa.cert());
    assertThat(errors("{cert: \"" + dir.resolve("missing.crt") + "\", key: \"" + rsa.key() + "\"}"))
        .singleElement().asString().contains("listen[0].tls.cert: ").contains("missing.crt: cannot read the certificate: no such file");
    assertThat(errors("{cert: \"" + notPem + "\", key: \"" + rsa.key() + "\"}")).singleElement().asString()
        .contains("not.pem: no PEM certificate");
    assertThat(errors("{cert: \"" + rsa.cert() + "\", key: \"" + notPem + "\"}")).singleElement().asString()
        .contains("listen[0].tls.key: ").contains("not.pem: no PEM private key");
    assertThat(errors("{cert: \"" + garbled + "\", key: \"" + rsa.key() + "\"}")).singleElement().asString()
        .contains("garbled.crt").contains("cannot be loaded");
    assertThat(errors(pair(expired))).singleElement().asString().contains("old.crt: the certificate expired on");
    assertThat(errors("{cert: \"" + rsa.cert() + "\"}")).singleElement().asString()
        .contains("listen[0].tls: missing required key \"key\"");
    assertThat(errors("{}")).singleElement().asString().contains("missing \"cert\" and \"key\"");
  }

  @Test
  void anEncryptedKeyIsRefusedWithTheWayOut() throws Exception {
    Path encrypted = dir.resolve("encrypted.key");
    Cli.run(encrypted, rsa.key());
    assertThat(errors("{cert: \"" + rsa.cert() + "\", key: \"" + encrypted + "\"}")).singleElement().asString()
        .contains("encrypted").contains("openssl pkey");
  }

  /** Runs openssl to write an encrypted copy of a key. */
  private static final class Cli {
    static void run(Path out, Path key) {
      var r = tether.testing.Cli.run(30, "openssl", "pkey", "-in", key.toString(), "-aes256", "-passout",
          "pass:secret", "-out", out.toString());
      assertThat(r.exit()).as(r.output()).isZero();
    }
  }

  @Test
  void listenerRulesSayWhichKeyIsMisplaced() {
    assertThatThrownBy(() -> new ConfigLoader(n -> null).parse("t.yaml", "listen:\n"
        + "  - {port: 80, h2c: true, redirect_https: yes, hsts: {max_age: 1h}, http2: true}\n"
        + "  - {port: 443, tls: " + pair(rsa) + ", h2c: true, redirect_https: 8443}\n"
        + "  - {port: 81, redirect_https: 70000}\n"
        + "http2: {max_concurrent_streams: 0, stream_window: 10, reset_window: 1500ms}\n"
        + "upstreams:\n  app:\n    servers: [{name: a, address: \"127.0.0.1:9\"}]\n"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactlyInAnyOrder(
            "t.yaml:2: listen[0].http2: http2 is offered by ALPN on TLS listeners; for HTTP/2 without TLS set h2c: true",
            "t.yaml:2: listen[0].hsts: browsers ignore Strict-Transport-Security over plain HTTP (RFC 6797 §7.2):"
                + " put it on the TLS listener",
            "t.yaml:3: listen[1].h2c: h2c is HTTP/2 without TLS: on a TLS listener clients get h2 by ALPN (http2: true)",
            "t.yaml:3: listen[1].redirect_https: only a plain listener redirects to https",
            "t.yaml:4: listen[2].redirect_https: expected true, false or the https port (1..65535), got \"70000\"",
            "t.yaml:5: http2.max_concurrent_streams: expected 1..10000, got 0",
            "t.yaml:5: http2.stream_window: expected 1KB..2147483647 bytes, got 10",
            "t.yaml:5: http2.reset_window: expected whole seconds, at least 1s, got 1500ms"));
  }

  @Test
  void redirectHttpsTrueTakesThePortOfTheFirstTlsListener() throws Exception {
    TetherConfig c = new ConfigLoader(n -> null).parse("t.yaml", "listen:\n  - {port: 80, redirect_https: true}\n"
        + "  - {port: 8443, tls: " + pair(rsa) + ", hsts: {}}\n"
        + "upstreams:\n  app:\n    servers: [{name: a, address: \"127.0.0.1:9\"}]\n");
    assertThat(c.listen().get(0).redirectHttpsPort()).isEqualTo(8443);
    assertThat(c.listen().get(1).hsts().headerValue()).isEqualTo("max-age=31536000");
  }

  @Test
  void tetherCheckPrintsTheCertificatesOrTheErrors() throws Exception {
    Path good = Files.writeString(dir.resolve("good.yaml"), "listen: [{port: 8443, tls: " + pair(rsa) + "}]\n"
        + "upstreams:\n  app:\n    servers: [{name: a, address: \"127.0.0.1:9\"}]\n");
    String[] out = check(good);
    assertThat(out[0]).as(out[1]).contains("listen 0.0.0.0:8443 https (TLS 1.2/1.3, ")
        .contains("ALPN h2, http/1.1").contains("certificate " + rsa.cert() + ": site.test, www.site.test (default)")
        .contains("http/2: 128 streams per connection").contains("configuration OK");
    TestCertificates.Pair other = certs.leaf("other2", "other.test");
    Path bad = Files.writeString(dir.resolve("bad.yaml"), "listen: [{port: 8443, tls: {cert: \"" + rsa.cert()
        + "\", key: \"" + other.key() + "\"}}]\nupstreams:\n  app:\n    servers: [{name: a, address: \"127.0.0.1:9\"}]\n");
    out = check(bad);
    assertThat(out[2]).isEqualTo("1");
    assertThat(out[1]).contains("bad.yaml:1: listen[0].tls.key: ").contains("does not belong to the certificate");
  }

  /** {@code tether check -c file}: stdout, stderr, exit code. */
  private static String[] check(Path file) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true));
      System.setErr(new PrintStream(e, true));
      int code = new CommandLine(new TetherCommand()).execute("check", "-c", file.toString());
      return new String[] {o.toString(), e.toString(), String.valueOf(code)};
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
