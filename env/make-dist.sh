#!/usr/bin/env bash
# Packs a Grange distribution:  env/make-dist.sh [agent|node] [--no-build] [--out DIR]
#   agent (the default): buildlet-agent's jar and its runtime classpath, launcher bin/grange-agent
#     (env/dist/grange-agent). The Kubernetes image (env/linux-amd64), the GCE image or download
#     (env/linux-amd64-vm) and dedicated machines (env/dedicated) run it from /opt/grange-agent.
#   node: cluster-node's jar and its runtime classpath, launcher bin/grange-node, for the node
#     image of the Helm chart (helm/node-image).
# It builds first, in the reactor only (mvn -B -q -pl MODULE -am package -DskipTests; nothing is
# installed into ~/.m2), unless --no-build (then the module must have been packaged already).
# Writes OUT/grange-WHAT-VERSION.tar.gz (OUT defaults to target/ at the repository root) with one
# top folder grange-WHAT/ (bin/, lib/, VERSION), byte for byte the same for the same jars (sorted
# names, fixed times and owners), and prints its path and its sha256: the value of a GCE host
# type's grange-agent-sha256 when VMs download the agent from grange-agent-url.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

die() { echo "make-dist: $*" >&2; exit 1; }

what=agent
build=1
out="$ROOT/target"
while [ $# -gt 0 ]; do
  case "$1" in
    agent|node) what=$1 ;;
    --no-build) build= ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
    *) die "unknown argument \"$1\" (usage: env/make-dist.sh [agent|node] [--no-build] [--out DIR])" ;;
  esac
  shift
done
case "$what" in
  agent) module=buildlet-agent ;;
  node) module=cluster-node ;;
esac

version=$(sed -n '/<artifactId>grange-parent<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;q;}' pom.xml)
[ -n "$version" ] || die "cannot read the project version from pom.xml"

if [ -n "$build" ]; then
  command -v mvn >/dev/null || die "Maven (mvn) is needed to build the $what; install it (e.g. apt-get install maven)"
  echo "make-dist: mvn -B -q -pl $module -am package -DskipTests" >&2
  mvn -B -q -pl "$module" -am package -DskipTests
fi
jar="$module/target/$module-$version.jar"
classpath="$module/target/runtime.classpath"
[ -f "$jar" ] || die "$jar is missing: package the reactor first (run this without --no-build)"
[ -f "$classpath" ] || die "$classpath is missing: package the reactor first (run this without --no-build)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dist="$stage/grange-$what"
mkdir -p "$dist/bin" "$dist/lib"
install -m 0644 "$jar" "$dist/lib/"
# runtime.classpath: the module's runtime jars, ':'-separated, written by maven-dependency-plugin.
while IFS= read -r entry || [ -n "$entry" ]; do
  [ -n "$entry" ] || continue
  [ -f "$entry" ] || die "$entry (in $classpath) is not a jar file: package the reactor first (run this without --no-build)"
  name=$(basename "$entry")
  [ ! -e "$dist/lib/$name" ] || die "two jars are named $name; the launcher's lib/* would hold only one"
  install -m 0644 "$entry" "$dist/lib/"
done < <(tr ':' '\n' < "$classpath")
install -m 0755 "env/dist/grange-$what" "$dist/bin/grange-$what"
echo "$version" > "$dist/VERSION"

mkdir -p "$out"
tarball="$(cd "$out" && pwd)/grange-$what-$version.tar.gz"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "grange-$what" \
  | gzip -n -9 > "$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "$tarball"
echo "sha256 $(sha256sum "$tarball" | cut -d ' ' -f 1)"
