package dev.grange.agent;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What the agent logged while a test ran: the lines an operator reads on the machine. Attach
 * with {@link #start()}, detach with {@link #close()}.
 */
final class LogCapture implements AutoCloseable {
  private final Logger logger = (Logger) LoggerFactory.getLogger("dev.grange.agent");
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture() {
    appender.start();
    logger.addAppender(appender);
  }

  static LogCapture start() {
    return new LogCapture();
  }

  /** The formatted messages logged so far at {@code level} or above. */
  List<String> messages(Level level) {
    // AppenderBase appends under the appender's own lock.
    synchronized (appender) {
      return appender.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(level))
          .map(e -> e.getLevel() + " " + e.getFormattedMessage())
          .toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
