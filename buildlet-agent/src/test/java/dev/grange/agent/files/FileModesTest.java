package dev.grange.agent.files;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FileModesTest {
  @Test
  void modeStringsAreGosFileModeStrings() {
    assertEquals("drwxr-xr-x", FileModes.goString(040755));
    assertEquals("-rw-r--r--", FileModes.goString(0100644));
    assertEquals("-rwxr-xr-x", FileModes.goString(0100755));
    assertEquals("Lrwxrwxrwx", FileModes.goString(0120777));
    assertEquals("prw-r--r--", FileModes.goString(010644));
    assertEquals("Srwxr-xr-x", FileModes.goString(0140755));
    assertEquals("Dcrw-rw-rw-", FileModes.goString(020666));
    assertEquals("Drw-rw----", FileModes.goString(060660));
    assertEquals("urwxr-xr-x", FileModes.goString(0104755));
    assertEquals("gtrwxrwxrwx", FileModes.goString(0103777));
    assertEquals("dtrwxrwxrwx", FileModes.goString(041777));
    assertEquals("----------", FileModes.goString(0100000));
  }

  @Test
  void permissionBitsRoundTrip() {
    for (int m = 0; m < 01000; m += 7) {
      assertEquals(m, FileModes.bits(FileModes.permissions(m)));
    }
  }
}
