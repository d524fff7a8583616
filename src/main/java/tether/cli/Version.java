package tether.cli;

import picocli.CommandLine.IVersionProvider;

final class Version implements IVersionProvider {

  @Override
  public String[] getVersion() {
    String v = Version.class.getPackage().getImplementationVersion();
    return new String[] {"tether " + (v == null ? "dev" : v) + " (Vert.x 5, Java " + Runtime.version() + ")"};
  }
}
