package dev.grange.node.pool.cloud;

import com.typesafe.config.Config;
import dev.grange.node.Peers;
import dev.grange.protocol.model.FarmConfig;
import dev.grange.protocol.model.HostTypeSpec;
import dev.grange.protocol.model.PoolKind;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * The node's cloud pools: for each pool kind some host type uses (kubernetes, gce), its provider
 * (made by {@link Providers} from {@code grange.pools.<kind>}) and the {@link CloudPool} shard
 * region, whose one entity per kind is remembered (its janitor must run wherever it lives) and
 * woken at start.
 */
public final class CloudPools {
  private CloudPools() {}

  /** Makes the provider of a kind from the node config; throws naming what is wrong. */
  @FunctionalInterface
  public interface Providers {
    InstanceProvider create(PoolKind kind, Config config);
  }

  /** The kinds of cloud pool the farm's host types use, with their host types. */
  public static Map<PoolKind, Map<String, HostTypeSpec>> kinds(FarmConfig farm) {
    Map<PoolKind, Map<String, HostTypeSpec>> out = new LinkedHashMap<>();
    for (HostTypeSpec h : farm.hosts().values()) {
      if (h.pool() == PoolKind.KUBERNETES || h.pool() == PoolKind.GCE) {
        out.computeIfAbsent(h.pool(), k -> new LinkedHashMap<>()).put(h.name(), h);
      }
    }
    return out;
  }

  /**
   * The settings of every kind in use, checked: the node calls this before it starts anything, so
   * that a wrong setting refuses the start naming its key.
   *
   * @throws IllegalArgumentException naming the key that is wrong
   */
  public static Map<String, CloudPoolSettings> settings(FarmConfig farm, Config config, List<String> agentUrls, byte[] masterKey) {
    Map<String, CloudPoolSettings> settings = new LinkedHashMap<>();
    for (Map.Entry<PoolKind, Map<String, HostTypeSpec>> k : kinds(farm).entrySet()) {
      String kind = k.getKey().configName();
      settings.put(kind, CloudPoolSettings.fromConfig(config, kind, k.getValue(), agentUrls, masterKey));
    }
    return settings;
  }

  /**
   * Makes the providers of every kind in use with their checked {@code settings}, then starts the
   * shard region.
   *
   * @return the providers made, for the node to close when it stops
   */
  public static List<InstanceProvider> init(ActorSystem<?> system, ClusterSharding sharding, FarmConfig farm, Config config,
      Map<String, CloudPoolSettings> settings, Providers providers) {
    Map<PoolKind, Map<String, HostTypeSpec>> kinds = kinds(farm);
    if (kinds.isEmpty()) {
      return List.of();
    }
    Map<String, InstanceProvider> made = new LinkedHashMap<>();
    List<InstanceProvider> all = new ArrayList<>();
    try {
      for (Map.Entry<PoolKind, Map<String, HostTypeSpec>> k : kinds.entrySet()) {
        String kind = k.getKey().configName();
        InstanceProvider p = providers.create(k.getKey(), config);
        made.put(kind, p);
        all.add(p);
      }
    } catch (RuntimeException e) {
      all.forEach(InstanceProvider::close);
      throw e;
    }
    Peers peers = Peers.sharded(sharding);
    sharding.init(Entity.of(CloudPool.ENTITY_KEY, ctx -> {
          String kind = ctx.getEntityId();
          PoolKind pk = PoolKind.fromConfigName(kind).orElseThrow();
          return CloudPool.create(kind, kinds.getOrDefault(pk, Map.of()), made.get(kind), settings.get(kind), peers, Clock.systemUTC());
        })
        .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
    for (String kind : made.keySet()) {
      sharding.entityRefFor(CloudPool.ENTITY_KEY, kind).tell(new CloudPool.Wake());
    }
    return all;
  }
}
