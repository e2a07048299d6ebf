#!/usr/bin/env bash
# The startup script of the linux-amd64 agent VMs of a GCE host type (pool = gce): the image runs
# it as root at boot (README.md beside it). It reads what the pool put on the VM
# (cluster-node, dev.grange.node.pool.gce.GceMetadata) from the metadata server, asking again
# until the server answers:
#   grange-node-urls   the nodes to dial, one ws:// or wss:// URL a line
#   grange-host-type, grange-instance, grange-key   the host type, the instance name, its hex key
#   grange-agent-url, grange-agent-sha256   optional: download the agent distribution
#     (env/make-dist.sh) and check it; a wrong or missing sha256 is refused, nothing runs
# Without grange-agent-url the distribution baked into the image at /opt/grange-agent runs.
# The key goes to /var/lib/grange/key, readable by the agent's user only; builds run in
# /var/lib/grange/work. The agent runs as the user grange (never root) with --halt-machine; when it
# exits 0 (the node sent halt) the machine powers off; when it fails it is started again after a
# pause. SIGTERM (the machine shutting down) is passed on to the agent, which drains.
#
# For the tests of this script only, the environment can move what it touches:
# GRANGE_METADATA_URL (the attributes' base URL), GRANGE_AGENT_HOME, GRANGE_VAR_DIR,
# GRANGE_AGENT_USER, GRANGE_POWEROFF (the command that powers off), GRANGE_RESTART_PAUSE and
# GRANGE_METADATA_PAUSE (seconds).
set -euo pipefail

metadata_url=${GRANGE_METADATA_URL:-http://metadata.google.internal/computeMetadata/v1/instance/attributes}
agent_home=${GRANGE_AGENT_HOME:-/opt/grange-agent}
var_dir=${GRANGE_VAR_DIR:-/var/lib/grange}
agent_user=${GRANGE_AGENT_USER:-grange}
poweroff=${GRANGE_POWEROFF:-/usr/sbin/poweroff}
restart_pause=${GRANGE_RESTART_PAUSE:-10}
metadata_pause=${GRANGE_METADATA_PAUSE:-2}

log() { echo "grange-startup: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# Prints instance attribute $1. 404 means absent: fatal unless $2 is "optional" (then it prints
# nothing). Anything else (no answer yet, 5xx) is asked again after a pause.
attribute() {
  local key=$1 optional=${2:-} body code
  body=$(mktemp)
  while true; do
    code=$(curl -s -o "$body" -w '%{http_code}' -H 'Metadata-Flavor: Google' "$metadata_url/$key") || code=000
    case "$code" in
      200)
        cat "$body"
        rm -f "$body"
        return 0
        ;;
      404)
        rm -f "$body"
        [ "$optional" = optional ] && return 0
        die "the instance metadata has no $key: the pool that made this VM must set it"
        ;;
    esac
    log "metadata server: $key answered $code; asking again in ${metadata_pause}s"
    sleep "$metadata_pause"
  done
}

[ "$agent_user" != root ] || die "the agent must not run as root"
id -u "$agent_user" >/dev/null 2>&1 || die "there is no user $agent_user: make it in the image (README.md)"
if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != "$agent_user" ]; then
  die "run this as root (or as $agent_user)"
fi

node_urls=$(attribute grange-node-urls)
host_type=$(attribute grange-host-type)
instance=$(attribute grange-instance)
key=$(attribute grange-key)
agent_url=$(attribute grange-agent-url optional)
agent_sha256=$(attribute grange-agent-sha256 optional)
[ -n "$host_type" ] || die "grange-host-type is empty"
[ -n "$instance" ] || die "grange-instance is empty"
[ -n "$key" ] || die "grange-key is empty"

nodes=()
while IFS= read -r url || [ -n "$url" ]; do
  url=${url//[[:space:]]/}
  [ -n "$url" ] || continue
  case "$url" in
    ws://?*|wss://?*) nodes+=(--node "$url") ;;
    *) die "grange-node-urls: \"$url\" is not a ws:// or wss:// URL" ;;
  esac
done <<< "$node_urls"
[ "${#nodes[@]}" -gt 0 ] || die "grange-node-urls holds no URL"

if [ -n "$agent_url" ]; then
  [ -n "$agent_sha256" ] || die "grange-agent-url is set but grange-agent-sha256 is not: refusing to run an unchecked download"
  tmp=$(mktemp -d)
  log "downloading the agent from $agent_url"
  curl -fsS --retry 5 --retry-connrefused -o "$tmp/agent.tar.gz" "$agent_url" \
    || die "cannot download the agent from $agent_url"
  got=$(sha256sum "$tmp/agent.tar.gz" | cut -d ' ' -f 1)
  want=$(echo "$agent_sha256" | tr -d '[:space:]' | tr '[:upper:]' '[:lower:]')
  if [ "$got" != "$want" ]; then
    rm -rf "$tmp"
    die "the agent from $agent_url has sha256 $got but grange-agent-sha256 is $want: refusing to run it"
  fi
  mkdir "$tmp/dist"
  tar -xzf "$tmp/agent.tar.gz" -C "$tmp/dist" --strip-components=1 --no-same-owner
  [ -x "$tmp/dist/bin/grange-agent" ] || die "the download from $agent_url holds no bin/grange-agent: make it with env/make-dist.sh"
  rm -rf "$agent_home"
  mkdir -p "$(dirname "$agent_home")"
  mv "$tmp/dist" "$agent_home"
  chmod 0755 "$agent_home"
  rm -rf "$tmp"
fi
[ -x "$agent_home/bin/grange-agent" ] \
  || die "no agent at $agent_home/bin/grange-agent: bake it into the image (README.md) or set grange-agent-url and grange-agent-sha256"

# The key: readable by the agent's user only, written before anyone else could open it.
mkdir -p "$var_dir/work"
(umask 077 && printf '%s\n' "$key" > "$var_dir/key.tmp")
if [ "$(id -u)" -eq 0 ]; then
  chown "$agent_user:" "$var_dir/key.tmp" "$var_dir/work"
fi
chmod 0600 "$var_dir/key.tmp"
mv "$var_dir/key.tmp" "$var_dir/key"

agent=(env HOME="$var_dir" USER="$agent_user" LOGNAME="$agent_user" "$agent_home/bin/grange-agent"
  "${nodes[@]}" --host-type "$host_type" --instance "$instance" --hostname "$instance"
  --key-file "$var_dir/key" --workdir "$var_dir/work" --halt-machine)
if [ "$(id -u)" -eq 0 ]; then
  # setpriv execs (su and runuser would stay in between and SIGKILL the agent 2 s after a SIGTERM).
  agent=(setpriv --reuid="$agent_user" --regid="$(id -g "$agent_user")" --init-groups -- "${agent[@]}")
fi

child=
stop() {
  log "stopping: SIGTERM to the agent, which drains"
  if [ -n "$child" ]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" || true
  fi
  exit 143
}
trap stop TERM INT

while true; do
  log "starting the agent for $host_type as $instance"
  "${agent[@]}" &
  child=$!
  status=0
  wait "$child" || status=$?
  child=
  if [ "$status" -eq 0 ]; then
    log "the agent halted: powering off"
    "$poweroff"
    exit 0
  fi
  log "the agent exited with status $status; starting it again in ${restart_pause}s"
  sleep "$restart_pause"
done
