# Sourced by bench/run, bench/faults, bench/ui, bench/mirrors and bench/pools (from the checkout's
# root, with $1 the caller's name for messages): builds the benchmarks and what they start when
# anything they are made of changed since the last build (the reactor only, never install).
# Offline first (-o: what the local repository holds is enough once the project has been built);
# online only when that fails.
bench_build() {
  local who=$1 stamp=bench/target/.bench-built f
  local stale=0
  [ -f "$stamp" ] || stale=1
  for f in bench/target/runtime.classpath cluster-node/target/runtime.classpath \
      buildlet-agent/target/runtime.classpath cassandra-runtime/target/cassandra.classpath; do
    [ -f "$f" ] || stale=1
  done
  if [ "$stale" = 0 ] && [ -n "$(find pom.xml */pom.xml */src/main cluster-node/src/test/java/dev/grange/node/testing \
      cluster-node/src/test/java/dev/grange/node/pool \
      -newer "$stamp" -print -quit 2>/dev/null)" ]; then
    stale=1
  fi
  [ "$stale" = 1 ] || return 0
  command -v mvn >/dev/null || { echo "$who: Maven (mvn) is needed to build Grange" >&2; exit 1; }
  echo "Building (mvn -B -q -o -pl bench -am package -DskipTests) ..."
  if ! mvn -B -q -o -pl bench -am package -DskipTests; then
    echo "$who: the offline build failed; trying online (mvn -B -q -pl bench -am package -DskipTests) ..."
    mvn -B -q -pl bench -am package -DskipTests
  fi
  touch "$stamp"
}

# Safety net for a driver that was killed outright (its own shutdown hook does the real work), for
# bench/run and bench/mirrors: ends the processes listed in BenchFarm's pid file $1, only if their
# command line still names the run directory on its first line.
bench_reap() {
  local pids=$1
  [ -f "$pids" ] || return 0
  local dir pid left=()
  dir=$(head -n 1 "$pids")
  for pid in $(tail -n +2 "$pids"); do
    if tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "$dir"; then
      kill "$pid" 2>/dev/null && left+=("$pid")
    fi
  done
  # 20 s for all of them together, then SIGKILL (an idle agent can hang on SIGTERM).
  for _ in $(seq 100); do
    local alive=0
    for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${left[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -f "$pids"
}
