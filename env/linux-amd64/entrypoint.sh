#!/usr/bin/env bash
# The entrypoint of the linux-amd64 agent image, a pod of a Kubernetes host type. The pool
# (cluster-node, dev.grange.node.pool.kube.KubeApiUse) gives each pod:
#   /etc/grange/key        the instance's key (hex), from the instance's Secret
#   /etc/grange/node-urls  the nodes to dial, one ws:// or wss:// URL a line, from the same Secret
#   GRANGE_HOST_TYPE       the host type, and GRANGE_INSTANCE, the instance (pod) name
# It checks them, refusing with a message that names what is missing, and then execs the agent:
#   /opt/grange-agent/bin/grange-agent --node URL... --host-type T --instance I --hostname I
#     --key-file /etc/grange/key --workdir $GRANGE_WORKDIR
# exec, so the agent is the process the container's init (tini) signals: SIGTERM drains it.
# GRANGE_WORKDIR (default /home/grange/work, in the grange user's home) is where builds run; a
# host type can point it at a volume with its pool's env. GRANGE_CONFIG_DIR (default /etc/grange)
# and GRANGE_AGENT_HOME (default /opt/grange-agent) exist for the tests of this script only.
set -euo pipefail

config=${GRANGE_CONFIG_DIR:-/etc/grange}
agent_home=${GRANGE_AGENT_HOME:-/opt/grange-agent}
workdir=${GRANGE_WORKDIR:-/home/grange/work}

die() {
  echo "grange-entrypoint: $*" >&2
  exit 1
}

[ -n "${GRANGE_HOST_TYPE:-}" ] || die "GRANGE_HOST_TYPE is not set: the pod's env must name its host type"
[ -n "${GRANGE_INSTANCE:-}" ] || die "GRANGE_INSTANCE is not set: the pod's env must name its instance"
for f in key node-urls; do
  [ -f "$config/$f" ] || die "$config/$f is missing: mount the instance's Secret (keys key and node-urls) at $config"
  [ -s "$config/$f" ] || die "$config/$f is empty: the instance's Secret must hold its $f"
done

nodes=()
while IFS= read -r url || [ -n "$url" ]; do
  url=${url%$'\r'}
  url=${url//[[:space:]]/}
  [ -n "$url" ] || continue
  case "$url" in
    ws://?*|wss://?*) nodes+=(--node "$url") ;;
    *) die "$config/node-urls: \"$url\" is not a ws:// or wss:// URL" ;;
  esac
done < "$config/node-urls"
[ "${#nodes[@]}" -gt 0 ] || die "$config/node-urls holds no URL"

[ -x "$agent_home/bin/grange-agent" ] || die "$agent_home/bin/grange-agent is missing: the image must hold the agent distribution (env/make-dist.sh)"
mkdir -p "$workdir"
exec "$agent_home/bin/grange-agent" "${nodes[@]}" \
  --host-type "$GRANGE_HOST_TYPE" \
  --instance "$GRANGE_INSTANCE" \
  --hostname "$GRANGE_INSTANCE" \
  --key-file "$config/key" \
  --workdir "$workdir"
