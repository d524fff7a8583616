package tether.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** The CIDRs whose X-Forwarded-* headers are believed; from anyone else they are replaced. */
public final class TrustedProxies {

  private record Cidr(byte[] network, int prefix) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      return rest == 0 || ((address[full] ^ network[full]) & (0xff << (8 - rest))) == 0;
    }
  }

  private final Cidr[] cidrs;
  private final List<String> text;

  /** @throws IllegalArgumentException for text that is not an address or address/prefix */
  public TrustedProxies(List<String> cidrs) {
    this.cidrs = cidrs.stream().map(TrustedProxies::parse).toArray(Cidr[]::new);
    this.text = List.copyOf(cidrs);
  }

  @Override
  public String toString() {
    return String.join(", ", text);
  }

  public static final TrustedProxies NONE = new TrustedProxies(List.of());

  private static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String host = slash < 0 ? text : text.substring(0, slash);
    if (!host.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("expected an IP address or CIDR like 10.0.0.0/8, got \"" + text + "\"");
    }
    try {
      byte[] network = InetAddress.getByName(host).getAddress();
      int prefix = slash < 0 ? network.length * 8 : Integer.parseInt(text.substring(slash + 1));
      if (prefix < 0 || prefix > network.length * 8) {
        throw new IllegalArgumentException("prefix out of range in \"" + text + "\"");
      }
      return new Cidr(network, prefix);
    } catch (UnknownHostException | NumberFormatException e) {
      throw new IllegalArgumentException("expected an IP address or CIDR like 10.0.0.0/8, got \"" + text + "\"");
    }
  }

  public boolean trusts(String address) {
    if (cidrs.length == 0 || address == null) {
      return false;
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress(); // a literal: no lookup happens
    } catch (UnknownHostException e) {
      return false;
    }
    for (Cidr c : cidrs) {
      if (c.contains(bytes)) {
        return true;
      }
    }
    return false;
  }
}
