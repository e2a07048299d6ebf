# Sourced by bench/run, bench/faults and bench/ui (from the checkout's root, with $1 the caller's
# name for messages): builds the benchmarks and what they start when anything they are made of
# changed since the last build (the reactor only, never install).
bench_build() {
  local who=$1 stamp=bench/target/.bench-built f
  local stale=0
  [ -f "$stamp" ] || stale=1
  for f in bench/target/runtime.classpath cluster-node/target/runtime.classpath \
      buildlet-agent/target/runtime.classpath cassandra-runtime/target/cassandra.classpath; do
    [ -f "$f" ] || stale=1
  done
  if [ "$stale" = 0 ] && [ -n "$(find pom.xml */pom.xml */src/main cluster-node/src/test/java/dev/grange/node/testing \
      -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    stale=1
  fi
  [ "$stale" = 1 ] || return 0
  command -v mvn >/dev/null || { echo "$who: Maven (mvn) is needed to build Grange" >&2; exit 1; }
  echo "Building (mvn -B -q -pl bench -am package -DskipTests) ..."
  mvn -B -q -pl bench -am package -DskipTests
  touch "$stamp"
}
