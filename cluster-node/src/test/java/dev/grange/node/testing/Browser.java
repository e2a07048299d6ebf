package dev.grange.node.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium for the UI integration tests ({@code *IT}): Debian's {@code
 * /usr/bin/chromium} driven through {@code /usr/bin/chromedriver} (both installed by {@code
 * bin/ensure-browser}; a missing browser fails the test, it never skips it). Start one per test
 * class, it costs about a second:
 *
 * <pre>{@code
 * private static Browser browser;
 * @BeforeAll static void startBrowser() { browser = Browser.start("MyPageIT"); }
 * @AfterAll static void stopBrowser() { browser.close(); }
 * }</pre>
 *
 * <p>Nothing touches the network or the home directory: the driver's path is given (so Selenium
 * Manager never runs, and {@code SE_OFFLINE} keeps it offline should it run), Chromium resolves no
 * host but 127.0.0.1, and its profile, XDG config and cache live in a fresh directory under {@code
 * target/browser/}, deleted on {@link #close()}. The chromedriver log stays in {@code
 * target/browser/<name>-chromedriver.log}.
 *
 * <p>Console errors: Chromium's browser log at level SEVERE (uncaught exceptions, {@code
 * console.error}, failed loads) is collected per page, from {@link #open} on. A page without an
 * icon logs a favicon 404 as SEVERE: give test pages {@code <link rel="icon" href="data:,">}.
 *
 * <p>Waits poll a condition until a deadline ({@link #DEADLINE}); nothing sleeps. A wait that runs
 * out saves a screenshot and names it, with the page's console errors, in its failure.
 */
public final class Browser implements AutoCloseable {
  /** How long a wait may take: long, as it only costs time when a test fails. */
  public static final Duration DEADLINE = Duration.ofSeconds(30);

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static final Path ROOT = Path.of("target", "browser").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target", "screenshots").toAbsolutePath();
  private static final Duration POLL = Duration.ofMillis(50);

  private final String name;
  private final Path dir;
  private final ChromeDriverService service;
  private final ChromeDriver driver;
  private final Thread quitOnExit;
  private final List<String> errors = new ArrayList<>();
  private boolean closed;

  private Browser(String name, Path dir, ChromeDriverService service, ChromeDriver driver) {
    this.name = name;
    this.dir = dir;
    this.service = service;
    this.driver = driver;
    // A test JVM that exits without close() (a killed run, a forgotten @AfterAll) leaves no Chromium behind.
    this.quitOnExit = new Thread(this::quit, "browser-quit-" + name);
    Runtime.getRuntime().addShutdownHook(quitOnExit);
  }

  /**
   * Starts a headless Chromium, 1280x800, named {@code name} (a file-name-safe word, e.g. the
   * test class's simple name) for its directories and driver log.
   *
   * @throws IllegalStateException if chromium or chromedriver is missing or they do not match
   *     (the message says to run {@code bin/ensure-browser})
   */
  public static Browser start(String name) {
    requireInstalled();
    // Selenium hands system properties named SE_* to Selenium Manager as its environment.
    System.setProperty("SE_OFFLINE", "true");
    System.setProperty("SE_CACHE_PATH", ROOT.resolve("selenium-cache").toString());
    Path dir;
    try {
      Files.createDirectories(ROOT);
      dir = Files.createTempDirectory(ROOT, name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .withEnvironment(Map.of(
            "SE_OFFLINE", "true",
            "XDG_CONFIG_HOME", dir.resolve("xdg-config").toString(),
            "XDG_CACHE_HOME", dir.resolve("xdg-cache").toString()))
        .withLogFile(new File(ROOT.toFile(), name + "-chromedriver.log"))
        .build();
    try {
      return new Browser(name, dir, service, new ChromeDriver(service, options(dir.resolve("profile"))));
    } catch (WebDriverException e) {
      service.stop();
      deleteTree(dir);
      throw new IllegalStateException(
          "Chromium did not start through " + CHROMEDRIVER + " (run bin/ensure-browser: chromium and chromedriver"
              + " must be the same version; driver log in " + ROOT.resolve(name + "-chromedriver.log") + ")", e);
    }
  }

  /** Navigates to {@code url} and waits for its load event; starts a new page's console errors. */
  public void open(String url) {
    // Whatever the previous page logged belongs to it, not to this one (this one logs during get).
    drainLog();
    errors.clear();
    driver.get(url);
  }

  /**
   * Waits until {@code condition} returns neither null nor false, and returns what it returned. A
   * condition that touches an element the page has just replaced (a live page re-renders its rows)
   * is asked again at the next poll, not failed: the element it held is gone, not wrong.
   */
  public <T> T await(String what, Function<WebDriver, T> condition) {
    try {
      return new WebDriverWait(driver, DEADLINE, POLL).withMessage(what)
          .ignoring(StaleElementReferenceException.class).until(condition);
    } catch (TimeoutException e) {
      Path shot = screenshot(name + "-timeout-" + System.currentTimeMillis());
      throw new AssertionError(
          "Waited " + DEADLINE.toSeconds() + " s for " + what + " on " + driver.getCurrentUrl()
              + "; screenshot " + shot + "; console errors: " + consoleErrors(), e);
    }
  }

  /**
   * Waits until an element matching {@code locator} has a text that {@code wanted} accepts, and
   * returns that text, read in the same poll: an element held past the wait may be re-rendered
   * by the live page under the caller (stale), its text read here cannot.
   */
  public String awaitText(String what, By locator, Predicate<String> wanted) {
    return await(what, d -> d.findElements(locator).stream().map(WebElement::getText).filter(wanted).findFirst().orElse(null));
  }

  /** Waits until an element matching {@code locator} is visible, and returns it. */
  public WebElement awaitVisible(By locator) {
    return await("a visible " + locator, ExpectedConditions.visibilityOfElementLocated(locator));
  }

  /** The SEVERE browser-log entries ("SEVERE message") of the current page so far, oldest first. */
  public List<String> consoleErrors() {
    drainLog();
    return List.copyOf(errors);
  }

  /** Fails, listing them, if the current page has logged any console error. */
  public void assertNoConsoleErrors() {
    List<String> found = consoleErrors();
    if (!found.isEmpty()) {
      throw new AssertionError(found.size() + " console error(s) on " + driver.getCurrentUrl() + ":\n  "
          + String.join("\n  ", found));
    }
  }

  /** Saves a PNG of the viewport as {@code target/screenshots/<name>.png} and returns its path. */
  public Path screenshot(String name) {
    Path file = SCREENSHOTS.resolve(name + ".png");
    try {
      Files.createDirectories(SCREENSHOTS);
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Runs {@code script} as a function body in the page ({@code arguments[i]} are {@code args}); returns its {@code return} value. */
  public Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /** The page's used JS heap, {@code performance.memory.usedJSHeapSize}, in bytes (precise: not bucketed). */
  public long jsHeapBytes() {
    return ((Number) script("return performance.memory.usedJSHeapSize;")).longValue();
  }

  /** Resizes the window, e.g. {@code windowSize(360, 800)} for the narrow-screen checks. */
  public void windowSize(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  /** The Selenium driver, for what this class does not wrap (clicks, typing, finding elements). */
  public WebDriver driver() {
    return driver;
  }

  /** Quits Chromium and chromedriver and deletes the profile directory. */
  @Override
  public void close() {
    quit();
    try {
      Runtime.getRuntime().removeShutdownHook(quitOnExit);
    } catch (IllegalStateException shuttingDown) {
      // Already exiting: the hook has run or is running quit().
    }
    deleteTree(dir);
  }

  private synchronized void quit() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      driver.quit();
    } finally {
      service.stop();
    }
  }

  private void drainLog() {
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        errors.add(e.getLevel() + " " + e.getMessage());
      }
    }
  }

  private static ChromeOptions options(Path profile) {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // required as root (CI)
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-precise-memory-info",
        "--window-size=1280,800",
        "--user-data-dir=" + profile,
        // Chromium's own look-ups (safe browsing, updates) must not leave the machine.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.SEVERE);
    options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
    return options;
  }

  private static void requireInstalled() {
    List<String> missing = new ArrayList<>();
    for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(p)) {
        missing.add(p.toString());
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("The browser tests need " + String.join(" and ", missing)
          + ": run bin/ensure-browser (as root it installs Debian's chromium and chromium-driver)");
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Best effort: target/ is wiped by mvn clean anyway.
    }
  }
}
