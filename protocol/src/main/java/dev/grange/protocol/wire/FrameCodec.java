package dev.grange.protocol.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;

/**
 * Text frames to JSON and back. Thread-safe; one shared instance is enough.
 *
 * <p>Decoding checks the frame's size, its JSON, its {@code op} and every field's rules (in the
 * records' constructors), and reports each violation as a {@link ProtocolException} that says
 * what was wrong. Unknown fields are ignored so that a newer peer can add some; an unknown
 * {@code op} is an {@link UnsupportedOpException}, which an agent answers with {@code
 * unsupported} while staying connected.
 */
public final class FrameCodec {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .build();

  private FrameCodec() {}

  /** The JSON of a frame. */
  public static String encode(Frame frame) {
    try {
      return MAPPER.writeValueAsString(frame);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + frame, e);
    }
  }

  /** A frame the node sent, as the agent reads it. */
  public static NodeFrame decodeFromNode(String json) {
    return decode(json, NodeFrame.class);
  }

  /** A frame an agent sent, as the node reads it. */
  public static AgentFrame decodeFromAgent(String json) {
    return decode(json, AgentFrame.class);
  }

  private static <T extends Frame> T decode(String json, Class<T> type) {
    if (json == null || json.isEmpty()) {
      throw new ProtocolException("empty text frame");
    }
    // A char is at least one UTF-8 byte; count exactly only when it may matter.
    if (json.length() > Limits.MAX_TEXT_FRAME_BYTES
        || (json.length() > Limits.MAX_TEXT_FRAME_BYTES / 4
            && json.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_TEXT_FRAME_BYTES)) {
      throw new ProtocolException(
          "text frame is over " + Limits.MAX_TEXT_FRAME_BYTES + " bytes");
    }
    try {
      return MAPPER.readValue(json, type);
    } catch (InvalidTypeIdException e) {
      throw unknownOp(json, e);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ProtocolException pe) {
        throw pe;
      }
      throw new ProtocolException("bad frame: " + firstLine(e.getOriginalMessage()), e);
    } catch (JsonProcessingException e) {
      throw new ProtocolException("malformed JSON frame: " + firstLine(e.getOriginalMessage()), e);
    }
  }

  private static ProtocolException unknownOp(String json, InvalidTypeIdException e) {
    try {
      JsonNode node = MAPPER.readTree(json);
      JsonNode op = node.get("op");
      if (op == null || !op.isTextual()) {
        return new ProtocolException("frame has no \"op\" string", e);
      }
      long id = node.path("id").asLong(0);
      return new UnsupportedOpException(op.asText(), id);
    } catch (JsonProcessingException inner) {
      return new ProtocolException("malformed JSON frame", e);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** A well-formed frame whose op this side does not know. */
  public static final class UnsupportedOpException extends ProtocolException {
    private final String op;
    private final long id;

    public UnsupportedOpException(String op, long id) {
      super("unknown op \"" + op + "\"");
      this.op = op;
      this.id = id;
    }

    public String op() {
      return op;
    }

    /** The frame's id, 0 when it had none. */
    public long id() {
      return id;
    }
  }
}
