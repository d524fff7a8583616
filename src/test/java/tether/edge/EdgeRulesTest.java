package tether.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.MultiMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The edge values without sockets: variables, header rules, redirects, rewrites, Accept. */
class EdgeRulesTest {

  private static final HeaderValue.Vars VARS = v -> switch (v) {
    case CLIENT_IP -> "203.0.113.7";
    case REQUEST_ID -> "abc123";
    case SCHEME -> "https";
    case HOST -> "shop.example";
  };

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "plain text|plain text",
      "$client_ip|203.0.113.7",
      "for=$client_ip;proto=$scheme;host=$host|for=203.0.113.7;proto=https;host=shop.example",
      "id $request_id.|id abc123.",
      "costs $$5|costs $5",
      "$1 and $ alone and 100$|$1 and $ alone and 100$",
      "$${not_env}|${not_env}"})
  void variablesAreReplacedAndTheRestIsLiteral(String written, String rendered) {
    assertThat(HeaderValue.parse(written).render(VARS)).isEqualTo(rendered);
  }

  @Test
  void anUnknownVariableOrALineBreakIsRefused() {
    assertThatThrownBy(() -> HeaderValue.parse("$remote_addr")).hasMessage(
        "unknown variable $remote_addr (expected: $client_ip, $request_id, $scheme, $host; $$ for a literal $)");
    assertThatThrownBy(() -> HeaderValue.parse("$hostname")).hasMessageStartingWith("unknown variable $hostname");
    assertThatThrownBy(() -> HeaderValue.parse("a\r\nSet-Cookie: x")).hasMessageContaining("line break");
  }

  @Test
  void headerRulesRemoveSetAndAdd() {
    Map<String, HeaderValue> set = new LinkedHashMap<>();
    set.put("X-Real-IP", HeaderValue.parse("$client_ip"));
    HeaderRules rules = HeaderRules.of(set, Map.of("Via", HeaderValue.parse("1.1 edge")), List.of("X-Powered-By"));
    MultiMap h = MultiMap.caseInsensitiveMultiMap().add("x-real-ip", "forged").add("Via", "1.1 tether")
        .add("X-Powered-By", "PHP/8.2");
    rules.apply(h, VARS);
    assertThat(h.getAll("X-Real-IP")).containsExactly("203.0.113.7");
    assertThat(h.getAll("Via")).containsExactly("1.1 tether", "1.1 edge");
    assertThat(h.contains("X-Powered-By")).isFalse();
    assertThat(rules).hasToString("set X-Real-IP: $client_ip; add Via: 1.1 edge; remove X-Powered-By");
  }

  @Test
  void headersTetherManagesCannotBeNamedNorOneHeaderTwice() {
    assertThat(HeaderRules.refusal("Transfer-Encoding")).contains("managed by Tether");
    assertThat(HeaderRules.refusal("host")).contains("managed by Tether");
    assertThat(HeaderRules.refusal("X Bad")).contains("is not a header name");
    assertThat(HeaderRules.refusal("X-Frame-Options")).isNull();
    assertThatThrownBy(() -> HeaderRules.of(Map.of("X-A", HeaderValue.parse("1")), Map.of(), List.of("x-a")))
        .hasMessage("x-a: named by set and by remove (expected: one rule per header)");
  }

  @ParameterizedTest(name = "{0} + {1} -> {2}")
  @CsvSource(delimiter = '|', value = {
      "https://example.com|/a/b?c=d|https://example.com/a/b?c=d",
      "https://example.com:8443|/|https://example.com:8443/",
      "https://example.com/|/a?b|https://example.com/",
      "https://example.com/moved|/a?b|https://example.com/moved",
      "/maintenance|/a?b|/maintenance",
      "http://x.example?from=old|/a|http://x.example?from=old"})
  void aRedirectKeepsPathAndQueryOnlyWhenItsTargetHasNoPath(String to, String request, String location) {
    assertThat(Redirect.of(301, to).location(request)).isEqualTo(location);
  }

  @Test
  void aRedirectNeedsARedirectStatusAndAUrl() {
    assertThatThrownBy(() -> Redirect.of(200, "https://example.com"))
        .hasMessage("status: expected one of 301, 302, 303, 307, 308, got 200");
    assertThatThrownBy(() -> Redirect.of(301, "example.com")).hasMessageStartingWith(
        "to: \"example.com\" is not an absolute http(s) URL");
    assertThatThrownBy(() -> Redirect.of(301, "//example.com/x")).hasMessageContaining("not an absolute");
    assertThatThrownBy(() -> Redirect.of(301, "ftp://example.com")).hasMessageContaining("not an absolute");
    assertThatThrownBy(() -> Redirect.of(301, "https://exa mple.com")).hasMessageContaining("spaces");
  }

  @ParameterizedTest(name = "strip {0}, add {1}: {2} -> {3}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
      "/api|/v2|/api/users?id=1|/v2/users?id=1",
      "/api|-|/api/users|/users",
      "/api|-|/api|/",
      "/api|-|/api?x=1|/?x=1",
      "/api/|-|/api/users|/users",
      "/api|-|/other/x|/other/x",
      "-|/v2/|/users|/v2/users",
      "-|/v2|*|*"})
  void aRewriteStripsThenAddsAPrefixAndKeepsTheQuery(String strip, String add, String in, String out) {
    assertThat(new Rewrite(strip, add).apply(in)).isEqualTo(out);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', nullValues = "-", value = {
      "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8|true",
      "application/xhtml+xml|true",
      "TEXT/HTML; charset=utf-8|true",
      "*/*|false",
      "application/json|false",
      "text/html;q=0, application/json|false",
      "text/html;level=1;q=0.5|true",
      "-|false"})
  void anHtmlPageGoesOnlyToClientsThatAskForHtml(String accept, boolean html) {
    assertThat(ErrorPages.wantsHtml(accept)).isEqualTo(html);
  }

  @Test
  void anUpstreamsPagesFallBackToTheGlobalOnesStatusByStatus() {
    ErrorPages global = ErrorPages.of(Map.of(502, page("g502"), 503, page("g503")));
    ErrorPages own = ErrorPages.of(Map.of(503, page("u503"))).withFallback(global);
    assertThat(new String(own.html(503))).isEqualTo("u503");
    assertThat(new String(own.html(502))).isEqualTo("g502");
    assertThat(own.html(504)).isNull();
    assertThatThrownBy(() -> ErrorPages.of(Map.of(500, page("x")))).hasMessageContaining("expected: 502, 503, 504");
  }

  private static ErrorPages.Page page(String text) {
    return new ErrorPages.Page(text + ".html", text.getBytes());
  }
}
