package dev.grange.protocol.schedule;

/**
 * The class of a request for a buildlet, highest precedence first: every waiting item of an
 * earlier class is served before any item of a later one (see {@link SchedItem#ORDER}).
 */
public enum PriorityClass {
  /** Builds for a Go release in progress; a release manager is waiting on them. */
  RELEASE,
  /** A person waiting at a terminal: a remote (gomote) session. */
  INTERACTIVE,
  /** Pre-submit try builds of a proposed change; its author is waiting on them. */
  TRY,
  /** Builds of commits already submitted; nobody waits on one in particular. */
  POST_SUBMIT
}
