package tether.config;

/** One backend server of an upstream; {@code name} is its stable id, {@code route} its session-id suffix. */
public record ServerConfig(String name, String host, int port, int weight, boolean backup, String route) {

  public String address() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
