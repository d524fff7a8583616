package tether.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.net.HostAndPort;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fast path's request head ({@link ForwardedHead}, encoded in one pass) is byte for byte what the Vert.x path's
 * rules make of the same client head ({@link ForwardedHeaders#copy} into a map, {@code Connection: keep-alive}, then
 * Netty's encoder): every rule of the two is exercised by a row (client lines separated by {@code |}).
 */
class ForwardedHeadTest {

  @ParameterizedTest(name = "[{index}] trusted={1} https={2} own={3}: {0}")
  @CsvSource(delimiter = '#', value = {
      "Host: a.example # false # false # SRV",
      "Host: a.example:8443|Accept: */*|User-Agent: curl/8 # false # true # SRV",
      // hop-by-hop lines and those Connection lists stay behind
      "Host: a|Connection: keep-alive, X-Secret|X-Secret: 1|Keep-Alive: 5|TE: trailers|Upgrade: h2c|X-Kept: 2 # false # false # SRV",
      // a client's forwarding headers are replaced; a trusted proxy's kept and appended to
      "Host: a|X-Forwarded-For: 6.6.6.6|X-Forwarded-Proto: https|X-Forwarded-Host: evil|Forwarded: for=6.6.6.6|Via: 1.0 x|X-Request-Id: forged # false # false # SRV",
      "Host: a|X-Forwarded-For: 10.0.0.1|X-Forwarded-For: 10.0.0.2|X-Forwarded-Host: front.example|Forwarded: for=10.0.0.1|Via: 1.1 lb, 1.1 cdn|X-Request-Id: abc # true # true # SRV",
      "Host: a|X-Forwarded-Proto: http|Accept: x # true # false # SRV",
      // cookies: joined into one line, Tether's own taken out, the line left out when nothing remains
      "Host: a|Cookie: SRV=xyz # false # false # SRV",
      "Host: a|Cookie: PHPSESSID=1; SRV=xyz|Cookie: b=2 # false # false # SRV",
      "Host: a|Cookie: a=1|Cookie:  b=2 ;c=3 # false # false # SRV",
      "Host: a|Cookie: SRV=1; SRV=2 # false # false # ",
      "Host: a|Cookie: SRVX=1; xSRV=2 # false # false # SRV",
      // names as the client wrote them
      "host: a|x-forwarded-for: 6.6.6.6|COOKIE: SRV=1; k=v|accept-LANGUAGE: fr # false # false # SRV",
  })
  void theFastPathSendsWhatTheVertxPathWould(String lines, boolean trusted, boolean https, String own) {
    MultiMap client = HeadersMultiMap.httpHeaders();
    for (String line : lines.split("\\|")) {
      int colon = line.indexOf(':');
      client.add(line.substring(0, colon), line.substring(colon + 1).trim());
    }
    HostAndPort authority = HostAndPort.parseAuthority(client.get("Host"), -1);
    String expected = viaVertxRules(client, trusted, https, own, authority);
    ByteBuf encoded = ForwardedHead.encode(ByteBufAllocator.DEFAULT, HttpMethod.GET, "/p?q=1", client, own,
        "192.0.2.7", authority, trusted, https, "rid-1");
    try {
      assertThat(encoded.toString(StandardCharsets.ISO_8859_1)).isEqualTo(expected);
    } finally {
      encoded.release();
    }
  }

  private static String viaVertxRules(MultiMap client, boolean trusted, boolean https, String own,
                                      HostAndPort authority) {
    HeadersMultiMap out = HeadersMultiMap.httpHeaders();
    out.set(HttpHeaders.HOST, client.get(HttpHeaders.HOST));
    ForwardedHeaders.copy(client, out, own, "192.0.2.7", authority,
        trusted, https, "rid-1");
    out.set(HttpHeaders.CONNECTION, HttpHeaders.KEEP_ALIVE);
    EmbeddedChannel channel = new EmbeddedChannel(new HttpRequestEncoder());
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/p?q=1",
        Unpooled.EMPTY_BUFFER, out, EmptyHttpHeaders.INSTANCE));
    StringBuilder bytes = new StringBuilder();
    for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
      bytes.append(b.toString(StandardCharsets.ISO_8859_1));
      b.release();
    }
    channel.finishAndReleaseAll();
    return bytes.toString();
  }
}
