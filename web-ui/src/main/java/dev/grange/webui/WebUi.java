package dev.grange.webui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.CacheControl;
import org.apache.pekko.http.javadsl.model.headers.CacheDirectives;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The pages of the farm, served from this jar: no front-end build, no CDN. Each page is the
 * shared layout (header, navigation, live-connection status, screen-reader announcer) around
 * the page's own fragment, with plain ES modules that read the public JSON API ({@code
 * /api/v1}) and the live WebSocket ({@code /ui/v1/live}); nothing here talks to the cluster.
 *
 * <ul>
 *   <li>{@code /} pool status, {@code /queues}, {@code /dashboard}, {@code /builds/<id>},
 *       {@code /builders}, {@code /mirrors};
 *   <li>{@code /ui/assets/...} the pages' scripts and styles; {@code /ui/vendor/chart.umd.js}
 *       Chart.js from its WebJar.
 * </ul>
 */
public final class WebUi extends AllDirectives {
  private static final String PAGES = "dev/grange/webui/pages/";
  private static final String ASSETS = "dev/grange/webui/assets";
  private static final String CHART_JS = "META-INF/resources/webjars/chart.js/4.4.1/dist/chart.umd.js";
  private static final Pattern BUILD_ID = Pattern.compile("[a-z0-9-]{1,64}");

  /** Pages change with the jar; a browser asks again rather than show a stale page. */
  private static final HttpHeader REVALIDATE = CacheControl.create(CacheDirectives.NO_CACHE);

  /** A page: its title, its fragment and script, and whether it draws charts. */
  private record Page(String title, String name, boolean charts) {}

  private final Map<String, HttpResponse> pages;

  public WebUi() {
    String layout = resource(PAGES + "layout.html");
    pages = Map.of(
        "pools", render(layout, new Page("Pool status", "pools", true)),
        "queues", render(layout, new Page("Queues", "queues", false)),
        "dashboard", render(layout, new Page("Dashboard", "dashboard", false)),
        "builders", render(layout, new Page("Builders", "builders", true)),
        "mirrors", render(layout, new Page("Mirrors", "mirrors", false)),
        "build", render(layout, new Page("Build", "build", false)));
  }

  public Route route() {
    return get(() -> respondWithHeader(REVALIDATE, () -> concat(
        pathSingleSlash(() -> complete(pages.get("pools"))),
        path("queues", () -> complete(pages.get("queues"))),
        path("dashboard", () -> complete(pages.get("dashboard"))),
        path("builders", () -> complete(pages.get("builders"))),
        path("mirrors", () -> complete(pages.get("mirrors"))),
        path(PathMatchers.segment("builds").slash(PathMatchers.segment(BUILD_ID)), id -> complete(pages.get("build"))),
        pathPrefix(PathMatchers.segment("ui").slash("assets"), () -> getFromResourceDirectory(ASSETS)),
        path(PathMatchers.segment("ui").slash("vendor").slash("chart.umd.js"),
            () -> getFromResource(CHART_JS, ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, HttpCharsets.UTF_8))))));
  }

  private static HttpResponse render(String layout, Page p) {
    String scripts = (p.charts() ? "<script src=\"/ui/vendor/chart.umd.js\"></script>\n" : "")
        + "<script type=\"module\" src=\"/ui/assets/" + p.name() + ".js\"></script>";
    String html = layout
        .replace("{{title}}", p.title())
        .replace("{{body}}", resource(PAGES + p.name() + ".html"))
        .replace("{{scripts}}", scripts);
    return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_HTML_UTF8, html));
  }

  private static String resource(String path) {
    try (InputStream in = WebUi.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("web-ui resource missing from the jar: " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
