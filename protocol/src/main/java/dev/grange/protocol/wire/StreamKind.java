package dev.grange.protocol.wire;

/** What a binary frame's payload is: the kind byte of its header (PROTOCOL.md section 2). */
public enum StreamKind {
  STDOUT(1),
  STDERR(2),
  DATA(3);

  private final int code;

  StreamKind(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The kind for a header byte, or a {@link ProtocolException} that names the byte. */
  public static StreamKind of(int code) {
    switch (code) {
      case 1:
        return STDOUT;
      case 2:
        return STDERR;
      case 3:
        return DATA;
      default:
        throw new ProtocolException("binary frame has unknown kind " + code + " (1 stdout, 2 stderr, 3 data)");
    }
  }
}
