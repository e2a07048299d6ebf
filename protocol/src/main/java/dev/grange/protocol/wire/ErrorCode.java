package dev.grange.protocol.wire;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The {@code code} of an {@code error} answer (PROTOCOL.md section 3). */
public enum ErrorCode {
  BAD_REQUEST,
  NOT_FOUND,
  FORBIDDEN_PATH,
  TOO_LARGE,
  IO_ERROR,
  UNKNOWN_EXEC,
  UNSUPPORTED,
  INTERNAL;

  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static ErrorCode fromWire(String s) {
    for (ErrorCode c : values()) {
      if (c.wire().equals(s)) {
        return c;
      }
    }
    // An unknown code from a newer peer is still an error; never fail the frame for it.
    return INTERNAL;
  }
}
