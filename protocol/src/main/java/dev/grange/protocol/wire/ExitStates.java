package dev.grange.protocol.wire;

/** The {@code state} strings of an {@code exit} frame, as the Go buildlet wrote them. */
public final class ExitStates {
  public static final String OK = "ok";
  public static final String TIMEOUT = "timeout";
  public static final String KILLED = "signal: killed";

  private ExitStates() {}

  public static String exitStatus(int code) {
    return "exit status " + code;
  }

  public static String signal(String name) {
    return "signal: " + name;
  }

  public static String startFailed(String why) {
    return "start failed: " + why;
  }
}
