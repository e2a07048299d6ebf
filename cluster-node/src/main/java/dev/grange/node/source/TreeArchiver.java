package dev.grange.node.source;

import dev.grange.node.source.SourceException.Kind;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * Writes the tree of one commit as a tar stream, the same bytes every time: entries in git's tree
 * order with each directory before its contents, mtime the commit time, uid/gid 0 and no user
 * names, modes 0644/0755 for files (git's executable bit), 0755 for directories, 0777 for
 * symlinks. Submodules (gitlinks) are left out: their commits are not in this repository. Names
 * longer than the ustar limit and files over 8 GiB get POSIX (pax) headers. Blobs are streamed
 * from the object store, never held whole in memory.
 */
final class TreeArchiver {

  /** Blobs above this are streamed from the pack instead of being inflated into a byte array. */
  private static final int STREAM_THRESHOLD = 1 << 20;

  /** Git keeps a symlink's target in a blob; anything longer than this is not a real symlink. */
  private static final int MAX_LINK_TARGET = 4096;

  private TreeArchiver() {}

  /**
   * Writes the tar of {@code commit}'s tree to {@code out} (which this does not close) and returns
   * the number of entries. {@code repo} names the repository in messages.
   *
   * @throws SourceException {@code BAD_REPO} if the tree holds something no checkout could hold (a
   *     path component "..", a symlink target over 4 KiB)
   * @throws IOException if the repository cannot be read (a missing object) or {@code out} fails
   */
  static int write(ObjectReader reader, RevCommit commit, OutputStream out, String repo)
      throws IOException, SourceException {
    reader.setStreamFileThreshold(STREAM_THRESHOLD);
    FileTime mtime = FileTime.fromMillis(commit.getCommitTime() * 1000L);
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    tar.setAddPaxHeadersForNonAsciiNames(true);
    int entries = 0;
    try (TreeWalk walk = new TreeWalk(reader)) {
      walk.addTree(commit.getTree());
      walk.setRecursive(false);
      while (walk.next()) {
        checkName(walk, commit, repo);
        String path = walk.getPathString();
        int type = walk.getRawMode(0) & FileMode.TYPE_MASK;
        if (type == FileMode.TYPE_TREE) {
          TarArchiveEntry e = entry(path + "/", TarConstants.LF_DIR, 040755, mtime);
          tar.putArchiveEntry(e);
          tar.closeArchiveEntry();
          walk.enterSubtree();
        } else if (type == FileMode.TYPE_FILE) {
          boolean exec = (walk.getRawMode(0) & 0111) != 0;
          ObjectLoader blob = reader.open(walk.getObjectId(0), Constants.OBJ_BLOB);
          TarArchiveEntry e = entry(path, TarConstants.LF_NORMAL, exec ? 0100755 : 0100644, mtime);
          e.setSize(blob.getSize());
          tar.putArchiveEntry(e);
          blob.copyTo(tar);
          tar.closeArchiveEntry();
        } else if (type == FileMode.TYPE_SYMLINK) {
          ObjectLoader blob = reader.open(walk.getObjectId(0), Constants.OBJ_BLOB);
          if (blob.getSize() > MAX_LINK_TARGET) {
            throw new SourceException(
                Kind.BAD_REPO,
                "Symlink " + path + " at " + commit.name() + " in " + repo + " has a "
                    + blob.getSize() + "-byte target; no file system holds one over "
                    + MAX_LINK_TARGET);
          }
          TarArchiveEntry e = entry(path, TarConstants.LF_SYMLINK, 0120777, mtime);
          e.setLinkName(new String(blob.getCachedBytes(), StandardCharsets.UTF_8));
          tar.putArchiveEntry(e);
          tar.closeArchiveEntry();
        } else {
          // A gitlink (submodule) or a mode git itself does not write: nothing to check out.
          continue;
        }
        entries++;
      }
    }
    tar.finish();
    return entries;
  }

  private static TarArchiveEntry entry(String name, byte flag, int mode, FileTime mtime) {
    TarArchiveEntry e = new TarArchiveEntry(name, flag);
    e.setMode(mode);
    e.setLastModifiedTime(mtime);
    e.setUserId(0);
    e.setGroupId(0);
    e.setUserName("");
    e.setGroupName("");
    return e;
  }

  /** Git's own tools refuse these names; a hand-made tree object can still hold them. */
  private static void checkName(TreeWalk walk, RevCommit commit, String repo) throws SourceException {
    String name = walk.getNameString();
    if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
        || name.indexOf('\0') >= 0) {
      throw new SourceException(
          Kind.BAD_REPO,
          "The tree of " + commit.name() + " in " + repo + " holds an entry named '" + name
              + "' under '" + walk.getPathString() + "', which no checkout can hold");
    }
  }
}
