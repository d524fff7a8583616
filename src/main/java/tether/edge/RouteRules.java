package tether.edge;

/**
 * What a route does at the edge besides choosing an upstream, built once at config load: a {@link Redirect} (the
 * route then forwards nothing), a {@link Rewrite} of the forwarded path, header rules for the request (to the
 * backend) and for the response (to the client, Tether's own answers included). Each part may be null; a route with
 * none has no RouteRules at all (null), so it costs the request path one null check.
 */
public record RouteRules(Redirect redirect, Rewrite rewrite, HeaderRules request, HeaderRules response) {

  /** null when every part is null: nothing to do. */
  public static RouteRules of(Redirect redirect, Rewrite rewrite, HeaderRules request, HeaderRules response) {
    if (redirect == null && rewrite == null && request == null && response == null) {
      return null;
    }
    return new RouteRules(redirect, rewrite, request, response);
  }
}
