package dev.grange.bench.channel;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The load driver's own actor system, for the two baselines that run node code or node
 * libraries in the driver: the WebSocket transport's Pekko HTTP server and the {@code LogStore}
 * on the farm's Cassandra. Local only (no cluster, no persistence plugin started).
 */
final class DriverSystem {
  private DriverSystem() {}

  static ActorSystem<Void> create(String cassandraContactPoint) {
    Config c = ConfigFactory.parseString(
        """
        pekko.actor.provider = local
        pekko.loglevel = WARNING
        pekko.coordinated-shutdown.exit-jvm = off
        datastax-java-driver {
          basic.contact-points = ["%s"]
          basic.load-balancing-policy.local-datacenter = "datacenter1"
          basic.request.timeout = 10s
        }
        """.formatted(cassandraContactPoint))
        .withFallback(ConfigFactory.load());
    return ActorSystem.create(Behaviors.empty(), "bench-driver", c);
  }
}
