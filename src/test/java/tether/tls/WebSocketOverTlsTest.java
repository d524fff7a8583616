package tether.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tether.testing.ProxyTestBase;
import tether.testing.TestCertificates;
import tether.testing.TetherHarness;
import tether.testing.WebSocketBackend;

/**
 * A WebSocket through a TLS listener (issue 13, "Done when"): 101 with the sticky cookie (Secure), the pinned
 * server kept on the next handshake, and a handshake pinned to a dead server fails over.
 */
class WebSocketOverTlsTest extends ProxyTestBase {

  @TempDir
  Path dir;

  private final List<WebSocketBackend> started = new ArrayList<>();

  @AfterEach
  void stopBackends() {
    started.forEach(WebSocketBackend::stop);
  }

  @Test
  void aWebSocketOverTlsGets101StaysOnItsServerAndFailsOver() throws Exception {
    TestCertificates certs = TestCertificates.in(dir);
    TestCertificates.Pair localhost = certs.leaf("localhost", "localhost", "127.0.0.1");
    WebSocketBackend a = WebSocketBackend.echo(backends.vertx(), "a");
    WebSocketBackend b = WebSocketBackend.echo(backends.vertx(), "b");
    started.add(a);
    started.add(b);
    tether = TetherHarness.start("listen: [{address: 127.0.0.1, port: 0, tls: {cert: \"" + localhost.cert()
        + "\", key: \"" + localhost.key() + "\"}}]\nupstreams:\n  app:\n    sticky: {mode: cookie, cookie: TETHER,"
        + " secret: [k1]}\n    servers:\n      - {name: a, address: \"" + a.address() + "\"}\n"
        + "      - {name: b, address: \"" + b.address() + "\"}\n");
    WebSocketClient client = backends.vertx().createWebSocketClient(new WebSocketClientOptions().setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(certs.caCert().toString())).setConnectTimeout(5000));

    WebSocket first = connect(client, null);
    String cookie = first.headers().get("set-cookie");
    assertThat(cookie).as("the 101 carries the pin, Secure on TLS").contains("Secure").startsWith("TETHER=");
    String pin = cookie.split(";", 2)[0];
    String home = roundTrip(first);
    first.close().await(10, TimeUnit.SECONDS);

    WebSocket again = connect(client, pin);
    assertThat(roundTrip(again)).as("stays on its server").isEqualTo(home);
    again.close().await(10, TimeUnit.SECONDS);

    (home.equals("a") ? a : b).stop(); // the pinned server dies: the next handshake moves
    WebSocket moved = connect(client, pin);
    assertThat(roundTrip(moved)).isEqualTo(home.equals("a") ? "b" : "a");
    assertThat(moved.headers().get("set-cookie")).as("re-pinned in the 101").startsWith("TETHER=");
    moved.close().await(10, TimeUnit.SECONDS);
  }

  private WebSocket connect(WebSocketClient client, String cookie) throws Exception {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("localhost").setPort(tether.port())
        .setSsl(true).setURI("/chat");
    if (cookie != null) {
      o.addHeader("Cookie", cookie);
    }
    return client.connect(o).await(10, TimeUnit.SECONDS);
  }

  /** The echo names its server ("a:ping"): returns the server. */
  private static String roundTrip(WebSocket ws) throws Exception {
    BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    ws.textMessageHandler(texts::add);
    ws.writeTextMessage("ping").await(10, TimeUnit.SECONDS);
    String reply = texts.poll(10, TimeUnit.SECONDS);
    assertThat(reply).isNotNull().endsWith(":ping");
    return reply.substring(0, reply.indexOf(':'));
  }
}
