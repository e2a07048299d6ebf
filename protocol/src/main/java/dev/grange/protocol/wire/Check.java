package dev.grange.protocol.wire;

import java.util.List;

/** Field checks shared by the frame records' constructors; each failure names the op and field. */
final class Check {
  private Check() {}

  static long id(String op, long id) {
    if (id <= 0) {
      throw new ProtocolException(op + ": id must be a positive integer, got " + id);
    }
    return id;
  }

  static int stream(String op, int stream) {
    if (stream <= 0) {
      throw new ProtocolException(op + ": stream must be a positive integer, got " + stream);
    }
    return stream;
  }

  static long nonNegative(String op, String field, long v) {
    if (v < 0) {
      throw new ProtocolException(op + ": " + field + " must not be negative, got " + v);
    }
    return v;
  }

  static String required(String op, String field, String v) {
    if (v == null || v.isEmpty()) {
      throw new ProtocolException(op + ": " + field + " is required");
    }
    return v;
  }

  static <T> List<T> list(String op, String field, List<T> v) {
    if (v == null) {
      return List.of();
    }
    for (T t : v) {
      if (t == null) {
        throw new ProtocolException(op + ": " + field + " must not contain null");
      }
    }
    return List.copyOf(v);
  }
}
