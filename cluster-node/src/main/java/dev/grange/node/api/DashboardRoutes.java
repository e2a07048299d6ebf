package dev.grange.node.api;

import dev.grange.node.store.BuildIndex;
import dev.grange.node.store.StoreHealth;
import dev.grange.protocol.model.FarmConfig;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/dashboard?repo=&branch=&page=} and the same JSON at {@code
 * /dashboard?mode=json}: the commits x builders grid from the {@link BuildIndex}. Without repo,
 * the repository and branch of the latest build; a repository or branch with no builds is a 404,
 * a bad page a 400. (The HTML page at {@code /dashboard} is the web-ui's.)
 */
public final class DashboardRoutes extends AllDirectives {
  /** Index rows read for one page of the grid (builds of up to this many (commit, builder, try)). */
  private static final int MAX_ROWS = 20_000;

  private final BuildIndex index;
  private final FarmConfig farm;
  private final StoreHealth health;

  public DashboardRoutes(BuildIndex index, FarmConfig farm, StoreHealth health) {
    this.index = index;
    this.farm = farm;
    this.health = health;
  }

  public Route route() {
    return get(() -> concat(
        path(PathMatchers.segment("api").slash("v1").slash("dashboard"), this::grid),
        path("dashboard", () -> parameter("mode", mode -> mode.equals("json") ? grid() : reject())),
        path(PathMatchers.segment("api").slash("v1").slash("builders").slash(PathMatchers.segment()).slash("durations"), this::durations)));
  }

  /**
   * {@code GET /api/v1/builders/{name}/durations?limit=N}: the builder's finished builds, newest
   * first (default 50, at most 500): id, finishedAtMs, durationMs (its last attempt), queuedMs,
   * state. 404 for a builder the config does not have, 400 for a bad limit.
   */
  private Route durations(String builder) {
    if (farm.builder(builder).isEmpty()) {
      return complete(ApiErrors.response(StatusCodes.NOT_FOUND, "unknown_builder", "no builder " + builder));
    }
    if (health.down()) {
      return complete(ApiErrors.storeUnavailable(health.status().describe()));
    }
    return parameterOptional("limit", limit -> {
      int n;
      try {
        n = Integer.parseInt(limit.orElse("50"));
        if (n < 1 || n > 500) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        return complete(ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_parameter", "limit must be a whole number from 1 to 500"));
      }
      return onSuccess(index.durations(builder, n), rows -> {
        com.fasterxml.jackson.databind.node.ObjectNode o = ApiErrors.JSON.createObjectNode();
        o.put("builder", builder);
        var a = o.putArray("builds");
        for (BuildIndex.Finished f : rows) {
          a.addObject().put("id", f.buildId()).put("finishedAtMs", f.finishedAtMs()).put("durationMs", f.durationMs())
              .put("queuedMs", f.queuedMs()).put("state", f.state());
        }
        return complete(ApiRoutes.json(StatusCodes.OK, o));
      });
    });
  }

  private Route grid() {
    if (health.down()) {
      return complete(ApiErrors.storeUnavailable(health.status().describe()));
    }
    return parameterOptional("repo", repo -> parameterOptional("branch", branch -> parameterOptional("page", page -> {
      int p;
      try {
        p = Integer.parseInt(page.orElse("1"));
        if (p < 1 || p > 10_000) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        return complete(ApiErrors.response(StatusCodes.BAD_REQUEST, "bad_parameter", "page must be a whole number from 1"));
      }
      return onSuccess(answer(repo.orElse(null), branch.orElse(null), p), this::complete);
    })));
  }

  private CompletionStage<HttpResponse> answer(String repo, String branch, int page) {
    return index.repos().thenCompose(repos -> {
      BuildIndex.RepoBranch pick = repos.stream()
          .filter(r -> repo == null || r.repo().equals(repo))
          .filter(r -> branch == null || r.branch().equals(branch))
          .max(Comparator.comparingLong(BuildIndex.RepoBranch::lastMs))
          .orElse(null);
      if (pick == null) {
        String what = repo == null ? "no builds yet" : "no builds of " + repo + (branch == null ? "" : " on branch \"" + branch + "\"");
        return CompletableFuture.completedFuture(ApiErrors.response(StatusCodes.NOT_FOUND, "no_builds", what));
      }
      return index.builds(pick.repo(), pick.branch(), MAX_ROWS)
          .thenApply(rows -> ApiRoutes.json(StatusCodes.OK,
              DashboardGrid.json(pick.repo(), pick.branch(), page, rows, repos, farm.builders().values())));
    });
  }
}
