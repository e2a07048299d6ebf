package dev.grange.protocol.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DataFrameTest {
  @Test
  void binaryFramesRoundTripWithTheirHeader() {
    byte[] payload = {1, 2, 3, (byte) 0xff};
    for (StreamKind k : StreamKind.values()) {
      DataFrame f = new DataFrame(Integer.MAX_VALUE, k, 1L << 40, payload);
      byte[] wire = f.encode();
      assertEquals(13 + 4, wire.length);
      assertEquals(k.code(), wire[4]);
      assertEquals(f, DataFrame.decode(wire));
    }
  }

  @Test
  void headerIsBigEndian() {
    byte[] wire = new DataFrame(258, StreamKind.STDERR, 3, new byte[0]).encode();
    assertArrayEquals(new byte[] {0, 0, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 3}, wire);
  }

  @Test
  void aFullPayloadIsAllowedAndOneMoreByteIsNot() {
    DataFrame.decode(ByteBuffer.allocate(13 + Limits.MAX_PAYLOAD_BYTES).putInt(0, 1).put(4, (byte) 1));
    assertThrows(ProtocolException.class,
        () -> DataFrame.decode(ByteBuffer.allocate(14 + Limits.MAX_PAYLOAD_BYTES).putInt(0, 1).put(4, (byte) 1)));
  }

  @Test
  void badHeadersAreRefused() {
    assertThrows(ProtocolException.class, () -> DataFrame.decode(new byte[12]));
    assertThrows(ProtocolException.class, () -> DataFrame.decode(ByteBuffer.allocate(13).put(4, (byte) 1))); // stream 0
    assertThrows(ProtocolException.class, () -> DataFrame.decode(ByteBuffer.allocate(13).putInt(0, 1).put(4, (byte) 9)));
    assertThrows(ProtocolException.class, () -> DataFrame.decode(ByteBuffer.allocate(13).putInt(0, -1).put(4, (byte) 1)));
  }
}
