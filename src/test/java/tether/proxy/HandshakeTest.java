package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import org.junit.jupiter.api.Test;

/** Which requests are WebSocket handshakes and which 101s accept them, as a table (no sockets). */
class HandshakeTest {

  private static MultiMap headers(String... nameValues) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < nameValues.length; i += 2) {
      m.add(nameValues[i], nameValues[i + 1]);
    }
    return m;
  }

  private static boolean ws(HttpMethod method, HttpVersion version, boolean body, String... nameValues) {
    return Handshake.isWebSocket(method, version, headers(nameValues), body);
  }

  @Test
  void aHandshakeIsAnHttp11GetWithoutBodyAskingForWebsocket() {
    HttpMethod get = HttpMethod.GET;
    HttpVersion v11 = HttpVersion.HTTP_1_1;
    assertThat(ws(get, v11, false, "Connection", "Upgrade", "Upgrade", "websocket")).isTrue();
    assertThat(ws(get, v11, false, "Connection", "keep-alive, Upgrade", "Upgrade", "WebSocket"))
        .as("Firefox's Connection, any case").isTrue();
    assertThat(ws(get, v11, false, "Connection", "keep-alive", "Connection", "upgrade", "Upgrade", "websocket"))
        .as("Connection over two lines").isTrue();
    assertThat(ws(get, v11, false, "Connection", "Upgrade", "Upgrade", "foo, websocket")).isTrue();

    assertThat(ws(get, v11, false, "Upgrade", "websocket")).as("Upgrade not listed in Connection").isFalse();
    assertThat(ws(get, v11, false, "Connection", "Upgrade")).as("no Upgrade").isFalse();
    assertThat(ws(get, v11, false, "Connection", "Upgraded", "Upgrade", "websocket")).as("a token, not a prefix")
        .isFalse();
    assertThat(ws(get, v11, false, "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c")).as("h2c").isFalse();
    assertThat(ws(get, v11, false, "Connection", "Upgrade", "Upgrade", "TLS/1.0")).isFalse();
    assertThat(ws(get, v11, false, "Connection", "Upgrade", "Upgrade", "websocket2")).isFalse();
    assertThat(ws(HttpMethod.POST, v11, false, "Connection", "Upgrade", "Upgrade", "websocket")).isFalse();
    assertThat(ws(get, HttpVersion.HTTP_1_0, false, "Connection", "Upgrade", "Upgrade", "websocket")).isFalse();
    assertThat(ws(get, HttpVersion.HTTP_2, false, "Connection", "Upgrade", "Upgrade", "websocket")).isFalse();
    assertThat(ws(get, v11, true, "Connection", "Upgrade", "Upgrade", "websocket")).as("with a body").isFalse();
  }

  @Test
  void onlyA101NamingWebsocketAcceptsIt() {
    assertThat(Handshake.accepted(headers("Upgrade", "websocket", "Connection", "Upgrade"))).isTrue();
    assertThat(Handshake.accepted(headers("Upgrade", "WebSocket"))).isTrue();
    assertThat(Handshake.accepted(headers("Upgrade", "h2c"))).isFalse();
    assertThat(Handshake.accepted(headers())).isFalse();
  }

  @Test
  void theNextHopGetsTheHopByHopPairAlone() {
    MultiMap out = headers("Connection", "keep-alive", "Sec-WebSocket-Key", "k");
    Handshake.forward(out);
    assertThat(out.getAll("Connection")).containsExactly("Upgrade");
    assertThat(out.getAll("Upgrade")).containsExactly("websocket");
    assertThat(out.get("Sec-WebSocket-Key")).isEqualTo("k");
  }
}
