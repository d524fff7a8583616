package tether.sticky;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.core.net.SocketAddress;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The request view the modes read: built over the server request without copying, and parsed as Vert.x does. */
class StickyRequestTest {

  @Test
  void ofWrapsTheRequestsOwnHeaders() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().add("Cookie", "a=1");
    SocketAddress client = SocketAddress.inetSocketAddress(40000, "192.0.2.7");
    HttpServerRequest req = (HttpServerRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {HttpServerRequest.class}, (proxy, method, args) -> switch (method.getName()) {
          case "headers" -> headers;
          case "uri" -> "/cart;jsessionid=abc.web2?x=1";
          case "remoteAddress" -> client;
          default -> throw new UnsupportedOperationException(method.getName());
        });
    StickyRequest view = StickyRequest.of(req);
    assertThat(view.headers()).isSameAs(headers);
    assertThat(view.uri()).isEqualTo("/cart;jsessionid=abc.web2?x=1");
    assertThat(view.clientAddress()).isEqualTo("192.0.2.7");
  }

  /** uri -> the value of query parameter jsessionid, the same as Vert.x's {@code getParam("jsessionid")}. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(nullValues = "-", delimiter = '|', value = {
      "/                                  | -",
      "/cart;jsessionid=a.web1            | -",
      "/cart?jsessionid=a.web1            | a.web1",
      "/cart?x=1&jsessionid=a.web1&y=2    | a.web1",
      "/cart?x=1;jsessionid=a.web1        | a.web1",
      "/cart?JSESSIONID=a.web1            | a.web1",
      "/cart?jsessionid=a%2Eb+c.web1      | a.b c.web1",
      "/cart?jsessionid=one&jsessionid=two | one",
      "/cart?jsessionid                   | ''",
      "/cart?jsessionid=                  | ''",
      "/cart?jsessionidx=a.web1           | -",
      "/cart?x=jsessionid=a.web1          | -",
      "http://h/cart?jsessionid=a.web1    | a.web1",
  })
  void queryParam(String uri, String value) {
    assertThat(new StickyRequest(MultiMap.caseInsensitiveMultiMap(), uri, "192.0.2.7").queryParam("jsessionid"))
        .isEqualTo(value)
        .isEqualTo(HttpUtils.params(uri, StandardCharsets.UTF_8, false).get("jsessionid"));
  }
}
