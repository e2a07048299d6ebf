package dev.grange.node;

import com.typesafe.config.Config;
import dev.grange.mirror.MirrorsHere;
import dev.grange.mirror.RepoMirror;
import dev.grange.node.api.ApiErrors;
import dev.grange.node.api.ApiRoutes;
import dev.grange.node.api.ApiSettings;
import dev.grange.node.api.DashboardRoutes;
import dev.grange.node.buildlet.Buildlet;
import dev.grange.node.buildlet.BuildletSession;
import dev.grange.node.buildlet.ConnectRoute;
import dev.grange.node.buildrun.BuildRun;
import dev.grange.node.live.LiveHub;
import dev.grange.node.live.LiveNote;
import dev.grange.node.live.LiveNotes;
import dev.grange.node.live.LiveRoute;
import dev.grange.node.live.LiveTopic;
import dev.grange.protocol.model.PoolKind;
import dev.grange.webui.WebUi;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.pubsub.Topic;
import dev.grange.node.pool.LocalPool;
import dev.grange.node.schedule.HostPool;
import dev.grange.node.source.SourceRoutes;
import dev.grange.node.source.Sources;
import dev.grange.node.store.BuildIndex;
import dev.grange.node.store.LogStore;
import dev.grange.node.store.StoreHealth;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * One running cluster node: the actor system, sharding of the entities, the HTTP port (API and
 * buildlet WebSocket) and the node's local pool. {@link Main} and the tests start it the same
 * way: {@link #start(Config)}.
 */
public final class GrangeNode extends AllDirectives {
  private final ActorSystem<Void> system;
  private final NodeSettings settings;
  private final ServerBinding binding;
  private final LogStore logs;

  private GrangeNode(ActorSystem<Void> system, NodeSettings settings, ServerBinding binding, LogStore logs) {
    this.system = system;
    this.settings = settings;
    this.binding = binding;
    this.logs = logs;
  }

  /** Starts a node with this config (already resolved) and returns once its HTTP port is bound. */
  public static GrangeNode start(Config config) {
    NodeSettings settings = NodeSettings.fromConfig(config);
    Map<String, dev.grange.node.pool.cloud.CloudPoolSettings> cloudSettings =
        dev.grange.node.pool.cloud.CloudPools.settings(settings.farm(), config, settings.agentUrls(), settings.masterKey());
    checkProviderSettings(settings.farm(), config);
    dev.grange.node.source.GitSshSettings sshSettings = dev.grange.node.source.GitSshSettings.fromConfig(config, settings.farm());
    ClusterJoin join = ClusterJoin.fromConfig(config);
    dev.grange.node.buildlet.QuarantinePolicy quarantine = dev.grange.node.buildlet.QuarantinePolicy.fromConfig(config.getConfig("grange.node.quarantine"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "grange", config);
    try {
      Cluster cluster = Cluster.get(system);
      if (join == ClusterJoin.SELF) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("grange.blocking-dispatcher"));
      LogStore logs = LogStore.create(system, settings.keyspace(), config.getBoolean("grange.store.autocreate"), LogStore.writeDeadline(config));
      BuildIndex index = BuildIndex.create(system, settings.keyspace(), config.getBoolean("grange.store.autocreate"));
      BuildIndex.Registered.get(system).use(index::record);
      // How others reach this node's HTTP: its interface, or when it listens on all of them, the
      // host its cluster address is known by.
      String httpHost = Set.of("0.0.0.0", "::", "[::]").contains(settings.httpInterface())
          ? config.getString("pekko.remote.artery.canonical.hostname") : settings.httpInterface();
      String httpUrl = "http://" + (httpHost.contains(":") && !httpHost.startsWith("[") ? "[" + httpHost + "]" : httpHost) + ":"
          + settings.httpPort();
      MirrorsHere mirrorsHere = new MirrorsHere();
      dev.grange.node.source.ServeLimit serving = new dev.grange.node.source.ServeLimit(
          system.dispatchers().lookup(DispatcherSelector.fromConfig("grange.serve-dispatcher")), config.getInt("grange.serve.max-admitted"));
      dev.grange.mirror.GitSsh ssh = sshSettings.open();
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "git-ssh-close", () -> {
        ssh.close();
        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      });
      Sources sources = new Sources(settings.varDir().resolve("sources"), Sources.DEFAULT_MIN_FETCH_INTERVAL,
          Sources.DEFAULT_FETCH_TIMEOUT, url -> settings.farm().repoWithUrl(url).flatMap(r -> mirrorsHere.dir(r.name())), ssh)
          .limitArchives(config.getBytes("grange.serve.archives-max"));
      ClusterSharding sharding = ClusterSharding.get(system);

      ActorRef<LocalPool.Command> localPool =
          system.systemActorOf(
              LocalPool.create(
                  new LocalPool.Settings(settings.agentJava(), settings.agentClasspath(), settings.agentUrls(),
                      settings.masterKey(), settings.varDir().resolve("agents"), settings.localSettle()),
                  settings.farm().hosts(), Peers.sharded(sharding)),
              "local-pool",
              Props.empty());
      ActorRef<Topic.Command<LiveNote>> liveTopic = LiveTopic.get(system).topic();
      LiveNotes liveNotes = LiveTopic.get(system).notes();
      Buildlet.init(sharding, settings.heartbeat(), settings.requestTimeout(), quarantine);
      HostPool.init(sharding, settings.farm().hosts(), localPool, liveNotes);
      List<dev.grange.node.pool.cloud.InstanceProvider> providers = dev.grange.node.pool.cloud.CloudPools.init(system, sharding,
          settings.farm(), config, cloudSettings, (kind, c) -> provider(kind, c, blocking));
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "cloud-providers-close", () -> {
        providers.forEach(dev.grange.node.pool.cloud.InstanceProvider::close);
        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      });
      BuildRun.init(system, sharding, settings.maxInfraRetries(), Duration.ofMinutes(2),
          new BuildRun.Resumption(
              (build, attempt, step) -> logs.read(build, attempt, step, 0, 1).thenApply(chunks -> !chunks.isEmpty()),
              settings.grace().plus(settings.resumeMargin()),
              Duration.ofMillis(500)));

      ApiSettings apiSettings = ApiSettings.fromConfig(config);
      dev.grange.node.postsubmit.PostSubmitBuilds.init(system, sharding, settings.farm(),
          new RepoMirror.Settings(settings.varDir().resolve("mirrors"), blocking, config.getInt("grange.mirror.git-timeout"),
              ssh, mirrorsHere, httpUrl),
          index::existing, apiSettings.askTimeout());

      BuildletSession.Deps deps =
          new BuildletSession.Deps(
              new Buildlet.Directory(sharding),
              logs,
              sources,
              blocking,
              settings.heartbeat(),
              settings.grace(),
              settings.requestTimeout(),
              settings.resumeClaimTimeout(),
              cluster.selfMember().address().toString(),
              (repo, sha) -> settings.farm().repoWithUrl(repo).map(r -> SourceRoutes.path(r.name(), sha)));
      ConnectRoute connect = new ConnectRoute(system, settings.farm(), settings.masterKey(), settings.minAgentVersion(), deps);
      StoreHealth health = StoreHealth.start(system, logs, StoreHealth.Settings.fromConfig(config));
      ApiRoutes api = new ApiRoutes(system, sharding, settings.farm(), sources, blocking, logs, health, apiSettings, settings.maxApiBody(), settings.logPollInterval());
      ActorRef<LiveHub.Command> hub = system.systemActorOf(
          LiveHub.create(sharding, List.copyOf(settings.farm().hosts().keySet()), liveTopic,
              new LiveHub.Settings(Duration.ofMillis(100), Duration.ofSeconds(5), settings.requestTimeout(),
                  httpUrl, Version.current())),
          "live-hub", Props.empty());
      LiveRoute live = new LiveRoute(system, hub, Duration.ofSeconds(15));
      GrangeNode shell = new GrangeNode(system, settings, null, logs);
      Route route = shell.concat(connect.route(), live.route(),
          new DashboardRoutes(index, settings.farm(), health).route(),
          new dev.grange.node.api.MirrorRoutes(sharding, settings.farm(), apiSettings.askTimeout()).route(),
          new dev.grange.node.api.WebhookRoutes(sharding, settings.farm()).route(),
          new SourceRoutes(settings.farm(), sources, serving).route(),
          new dev.grange.node.source.GitHttpRoutes(settings.farm(), mirrorsHere, sources, serving).route(), api.route(), new WebUi().route(), shell.root());
      ServerBinding binding =
          Http.get(system)
              .newServerAt(settings.httpInterface(), settings.httpPort())
              .bind(route)
              .toCompletableFuture()
              .get(30, java.util.concurrent.TimeUnit.SECONDS);
      CoordinatedShutdown.get(system)
          .addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind",
              () -> binding.unbind().thenApply(x -> Done.getInstance()));
      startManagement(system, binding);
      if (join == ClusterJoin.BOOTSTRAP) {
        // After management: bootstrap probes its peers' management ports and serves its own.
        ClusterBootstrap.get(system.classicSystem()).start();
      }
      return new GrangeNode(system, settings, binding, logs);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("node did not start: " + e.getMessage(), e);
    }
  }

  /**
   * Pekko Management on its own port: {@code /alive}, {@code /ready} (an Up member with its HTTP
   * port bound, {@link HttpBoundCheck}) and {@code /cluster/members}. Readiness ends when the HTTP
   * port is unbound; the management port itself closes later in coordinated shutdown, so a load
   * balancer sees the node not ready before it stops answering.
   */
  private static void startManagement(ActorSystem<Void> system, ServerBinding binding) throws Exception {
    HttpBoundCheck.mark(system, true);
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "http-not-ready", () -> {
          HttpBoundCheck.mark(system, false);
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
    PekkoManagement management = PekkoManagement.get(system.classicSystem());
    try {
      management.start().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("pekko.management.http.port " + system.settings().config().getInt("pekko.management.http.port")
          + " on " + system.settings().config().getString("pekko.management.http.hostname") + ": " + e.getCause().getMessage(), e.getCause());
    }
    CoordinatedShutdown.get(system)
        .addTask(CoordinatedShutdown.PhaseServiceStop(), "management-stop", management::stop);
  }

  private Route root() {
    return concat(
        extractUnmatchedPath(p -> complete(ApiErrors.response(StatusCodes.NOT_FOUND, "not_found", "nothing at " + p))));
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public NodeSettings settings() {
    return settings;
  }

  public LogStore logs() {
    return logs;
  }

  /** The port of Pekko Management ({@code /alive}, {@code /ready}, {@code /cluster/members}). */
  public int managementPort() {
    return PekkoManagement.get(system.classicSystem()).settings().getHttpPort();
  }

  /** Stops the node: unbinds, stops its local agents, leaves the cluster. */
  public CompletionStage<Done> stop() {
    system.terminate();
    return system.getWhenTerminated();
  }

  /** Reads the provider settings of every cloud pool kind in use, so that a wrong one refuses the start before anything runs. */
  private static void checkProviderSettings(dev.grange.protocol.model.FarmConfig farm, Config config) {
    for (PoolKind kind : dev.grange.node.pool.cloud.CloudPools.kinds(farm).keySet()) {
      if (kind == PoolKind.KUBERNETES) {
        dev.grange.node.pool.kube.KubernetesProvider.Settings.fromConfig(config);
      } else {
        dev.grange.node.pool.gce.GceProvider.Settings.fromConfig(config);
      }
    }
  }

  /** The provider of a cloud pool kind, from {@code grange.pools.<kind>}. */
  private static dev.grange.node.pool.cloud.InstanceProvider provider(PoolKind kind, Config config, Executor blocking) {
    if (kind == PoolKind.KUBERNETES) {
      return new dev.grange.node.pool.kube.KubernetesProvider(dev.grange.node.pool.kube.KubernetesProvider.Settings.fromConfig(config),
          blocking);
    }
    return new dev.grange.node.pool.gce.GceProvider(dev.grange.node.pool.gce.GceProvider.Settings.fromConfig(config), blocking);
  }
}
