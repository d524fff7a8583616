package tether;

import picocli.CommandLine;
import tether.cli.TetherCommand;

/** Entry point: {@code java -jar tether.jar [run|check|demo] ...}. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    int code = new CommandLine(new TetherCommand()).execute(args);
    // the code as it is: nothing left running (the demo's backends, a thread a library forgot) may hold the exit
    System.exit(code);
  }
}
