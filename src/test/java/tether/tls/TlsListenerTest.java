package tether.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.Backends;
import tether.testing.Cli;
import tether.testing.ProxyTestBase;
import tether.testing.TestCertificates;
import tether.testing.TetherHarness;

/** TLS termination (issue 13, "TLS") with real clients: curl, openssl s_client, the JDK's SSLSocket. */
class TlsListenerTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private TestCertificates certs;
  private TestCertificates.Pair localhost;

  @BeforeEach
  void makeCertificates() {
    certs = TestCertificates.in(dir);
    localhost = certs.leaf("localhost", "localhost", "127.0.0.1");
  }

  /** A backend that answers its name and the scheme Tether told it. */
  private Backends.Backend echoProto(String name) {
    return backends.start(name, req -> req.response().putHeader("X-Served-By", name)
        .end(name + " " + req.getHeader("X-Forwarded-Proto")));
  }

  private String tlsListen(String extra) {
    return "listen: [{address: 127.0.0.1, port: 0, tls: {cert: \"" + localhost.cert() + "\", key: \""
        + localhost.key() + "\"}" + extra + "}]\n";
  }

  private static String sticky(Backends.Backend... servers) {
    return upstream("    sticky: {mode: cookie, cookie: TETHER, secret: [k1]}\n", servers);
  }

  private List<String> curl(String... args) {
    List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "--cacert",
        certs.caCert().toString(), "--resolve", "localhost:" + tether.port() + ":127.0.0.1", "-D", "-"));
    command.addAll(List.of(args));
    return command;
  }

  @Test
  void curlOverHttp2GetsA200WithASecureStickyCookieAndTheBackendHearsHttps() {
    Backends.Backend a = echoProto("a");
    tether = TetherHarness.start(tlsListen("") + sticky(a));
    Cli.Result r = Cli.run(20, curl("--http2", "https://localhost:" + tether.port() + "/"));
    assertThat(r.exit()).as(r.output()).isZero();
    assertThat(r.output()).startsWith("HTTP/2 200").contains("a https");
    assertThat(r.output()).containsPattern("(?i)set-cookie: TETHER=[^\\r\\n]*; Secure");
  }

  @Test
  void http2OffOffersOnlyHttp11AndTls10And11AreRefused() {
    Backends.Backend a = echoProto("a");
    tether = TetherHarness.start(tlsListen(", http2: false") + upstream("", a));
    Cli.Result r = Cli.run(20, curl("--http2", "https://localhost:" + tether.port() + "/"));
    assertThat(r.output()).as(r.output()).startsWith("HTTP/1.1 200").contains("a https");
    for (String old : List.of("-tls1", "-tls1_1")) {
      Cli.Result s = Cli.run(20, "openssl", "s_client", old, "-connect", "127.0.0.1:" + tether.port());
      assertThat(s.exit()).as(old + ": " + s.output()).isNotZero();
    }
    Cli.Result tls12 = Cli.run(20, "openssl", "s_client", "-tls1_2", "-connect", "127.0.0.1:" + tether.port());
    assertThat(tls12.output()).contains("Protocol  : TLSv1.2").containsPattern("Cipher\\s*: ECDHE-RSA-AES(128|256)-GCM");
  }

  @Test
  void sessionsAreResumed() {
    Backends.Backend a = echoProto("a");
    tether = TetherHarness.start(tlsListen("") + upstream("", a));
    Path session = dir.resolve("session.pem");
    String connect = "127.0.0.1:" + tether.port();
    for (String version : List.of("-tls1_2", "-tls1_3")) {
      // s_client keeps the TLS 1.3 ticket only if it reads after the handshake: send a request and wait for it
      Cli.Result first = Cli.run(20, "sh", "-c", "(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; sleep 3) | openssl s_client "
          + version + " -connect " + connect + " -sess_out " + session);
      assertThat(first.output()).as(first.output()).contains("New, TLSv1.");
      Cli.Result second = Cli.run(20, "sh", "-c", "(printf 'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'; sleep 3) | openssl s_client "
          + version + " -connect " + connect + " -sess_in " + session);
      assertThat(second.output()).as(version + ": " + second.output()).contains("Reused, TLSv1.");
    }
  }

  @Test
  void sniPicksTheCertificateAndAnUnknownNameGetsTheFirst() throws Exception {
    Backends.Backend a = echoProto("a");
    TestCertificates.Pair one = certs.leaf("one", "one.test");
    TestCertificates.Pair two = certs.leaf("two", "two.test", "*.wild.test");
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, tls: {certificates: [{cert: \"" + one.cert()
        + "\", key: \"" + one.key() + "\"}, {cert: \"" + two.cert() + "\", key: \"" + two.key() + "\"}]}}]\n"
        + upstream("", a));
    assertThat(servedName(tether.port(), "one.test")).isEqualTo("CN=one.test");
    assertThat(servedName(tether.port(), "two.test")).isEqualTo("CN=two.test");
    assertThat(servedName(tether.port(), "x.wild.test")).isEqualTo("CN=two.test");
    assertThat(servedName(tether.port(), "other.test")).as("unknown name: the default").isEqualTo("CN=one.test");
    assertThat(servedName(tether.port(), null)).as("no SNI: the default").isEqualTo("CN=one.test");
    Cli.Result s = Cli.run(20, "openssl", "s_client", "-connect", "127.0.0.1:" + tether.port(), "-servername",
        "two.test");
    assertThat(s.output()).contains("subject=CN = two.test");
  }

  /** The subject of the certificate Tether serves for {@code sni} (null: no SNI). */
  static String servedName(int port, String sni) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] chain, String authType) { }
      public void checkServerTrusted(X509Certificate[] chain, String authType) { }
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      SSLParameters params = socket.getSSLParameters();
      params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      socket.setSSLParameters(params);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
  }

  @Test
  void aRenewedCertificateIsServedAfterReload() throws Exception {
    Backends.Backend a = echoProto("a");
    Path file = dir.resolve("tether.yaml");
    String yaml = tlsListen("") + "admin: {address: 127.0.0.1, port: 0}\nworkers: 2\naccess_log: {enabled: false}\n"
        + upstream("", a);
    Files.writeString(file, yaml);
    tether = TetherHarness.startFromFile(file);
    String before = fingerprint(tether.port());
    TestCertificates.Pair renewed = certs.leaf("renewed", "localhost", "127.0.0.1");
    Files.copy(renewed.cert(), localhost.cert(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(renewed.key(), localhost.key(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    var r = tether.admin("POST", "/reload");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String after = fingerprint(tether.port());
    assertThat(after).isNotEqualTo(before);
    for (int i = 0; i < 6; i++) { // every event loop's listener serves it
      assertThat(fingerprint(tether.port())).isEqualTo(after);
    }
    Cli.Result curl = Cli.run(20, curl("https://localhost:" + tether.port() + "/"));
    assertThat(curl.output()).as(curl.output()).contains("a https");

    // a broken renewal is refused whole, and the running certificate stays
    Files.writeString(localhost.key(), Files.readString(certs.leaf("stranger", "localhost").key()));
    var refused = tether.admin("POST", "/reload");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(refused.body()).getJsonArray("errors").getString(0))
        .contains("listen[0].tls.key").contains("does not belong to the certificate");
    assertThat(fingerprint(tether.port())).isEqualTo(after);
  }

  @Test
  void theEngineOfABoundPortNeedsARestart() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(TlsEngine.opensslAvailable(), "BoringSSL loads here");
    Backends.Backend a = echoProto("a");
    Path file = dir.resolve("tether.yaml");
    String yaml = "listen: [{address: 127.0.0.1, port: 0, tls: {cert: \"" + localhost.cert() + "\", key: \""
        + localhost.key() + "\", engine: jdk}}]\nadmin: {address: 127.0.0.1, port: 0}\nworkers: 1\n"
        + "access_log: {enabled: false}\n" + upstream("", a);
    Files.writeString(file, yaml);
    tether = TetherHarness.startFromFile(file);
    Files.writeString(file, yaml.replace("engine: jdk", "engine: openssl"));
    var refused = tether.admin("POST", "/reload");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(refused.body()).getJsonArray("errors").getString(0))
        .startsWith("listen[0].tls.engine: changed from jdk to openssl on a bound port: needs a restart");
  }

  static String fingerprint(int port) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    X509Certificate[] seen = new X509Certificate[1];
    context.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] chain, String authType) { }
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen[0] = chain[0];
      }
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
    }
    return seen[0].getSerialNumber().toString();
  }

  @Test
  void aPlainListenerRedirectsToHttpsButLetsAcmeChallengesThrough() throws Exception {
    Backends.Backend a = echoProto("a");
    int httpsPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      httpsPort = s.getLocalPort();
    }
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, redirect_https: true}, {address: 127.0.0.1,"
        + " port: " + httpsPort + ", tls: {cert: \"" + localhost.cert() + "\", key: \"" + localhost.key() + "\"},"
        + " hsts: {max_age: 1h, include_subdomains: true}}]\n" + upstream("", a));
    var redirect = tether.get("/shop/cart?id=7");
    assertThat(redirect.statusCode()).isEqualTo(308);
    assertThat(redirect.headers().firstValue("location")).hasValue("https://127.0.0.1:" + httpsPort + "/shop/cart?id=7");
    assertThat(a.served().get()).isZero();
    var acme = tether.get("/.well-known/acme-challenge/tok3n");
    assertThat(acme.statusCode()).isEqualTo(200);
    assertThat(acme.body()).isEqualTo("a http");
    assertThat(acme.headers().firstValue("strict-transport-security")).as("never over plain HTTP").isEmpty();

    // HSTS on the TLS listener, on proxied answers and Tether's own errors alike
    Cli.Result ok = Cli.run(20, "curl", "-sS", "-D", "-", "--cacert", certs.caCert().toString(), "--resolve",
        "localhost:" + httpsPort + ":127.0.0.1", "https://localhost:" + httpsPort + "/");
    assertThat(ok.output()).as(ok.output()).containsIgnoringCase("strict-transport-security: max-age=3600; includeSubDomains");
    Cli.Result bad = Cli.run(20, "curl", "-sS", "-D", "-", "--http1.1", "--cacert", certs.caCert().toString(), "--resolve",
        "localhost:" + httpsPort + ":127.0.0.1", "-H", "Host: a b", "https://localhost:" + httpsPort + "/");
    assertThat(bad.output()).as(bad.output()).startsWith("HTTP/1.1 400")
        .containsIgnoringCase("strict-transport-security: max-age=3600; includeSubDomains");
  }
}
