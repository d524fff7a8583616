package tether.edge;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;

/**
 * What the client sees of {@code Server}. {@code tether} (the default) replaces the backend's with
 * {@code Server: tether}, and puts it on Tether's own answers too, as nginx (which hides the backend's
 * {@code Server} and sends its own) and Envoy ({@code server_header_transformation: OVERWRITE}) do by default: the
 * public never learns the backends' software and version ({@code Apache/2.4.62 (Debian)}), and a 502 says which
 * layer answered. {@code pass} relays the backend's as it is (HAProxy's way); {@code remove} sends none at all.
 */
public enum ServerHeader {
  PASS, TETHER, REMOVE;

  // AsciiStrings: hashed once, and copied to the wire as bytes
  private static final AsciiString NAME = AsciiString.cached("Server");
  private static final AsciiString VALUE = AsciiString.cached("tether");

  /** On a backend's response, after its headers were copied. */
  public void apply(MultiMap headers) {
    switch (this) {
      case TETHER -> headers.set(NAME, VALUE);
      case REMOVE -> headers.remove(NAME);
      default -> { }
    }
  }

  /** On an answer Tether makes itself (an error, a redirect). */
  public void applyOwn(MultiMap headers) {
    if (this == TETHER) {
      headers.set(NAME, VALUE);
    }
  }
}
