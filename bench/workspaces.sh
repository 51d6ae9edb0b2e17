#!/usr/bin/env bash
# Disk use and init time of N workspaces of different manifests, sharing planton's plugin cache.
#
#   bench/workspaces.sh [N] [planton tofu init options...]
#   bench/workspaces.sh 20                                   # providers as terraform finds them
#   bench/workspaces.sh 20 --plugin-mirror /opt/tf-plugins   # from a mirror
#
# Everything happens in a fresh temporary HOME and work dir (removed at the end), so planton's
# cache starts empty: the first init is cold, the others warm. Set TF_PLUGIN_CACHE_DIR= (empty)
# to measure without a cache. Prints each init's time, a repeated init (nothing to do), and the
# disk use of the workspaces and of the cache (links not followed, as du counts them).
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-20}
shift || true
planton=${PLANTON:-.venv/bin/planton}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/manifests"
export HOME=$scratch/home PLANTON_WORK_DIR=$scratch/work CHECKPOINT_DISABLE=1 NO_COLOR=1
unset XDG_CACHE_HOME PLANTON_PLUGIN_MIRROR

seconds() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(seconds)" 'BEGIN { printf "%.2fs", e - s }'; }

for i in $(seq 1 "$count"); do
  sed "s/planton-demo-orders/bench-$i/" hack/manifest.yaml > "$scratch/manifests/m$i.yaml"
done
for i in $(seq 1 "$count"); do
  started=$(seconds)
  "$planton" tofu init -f "$scratch/manifests/m$i.yaml" "$@" > /dev/null 2> "$scratch/err" \
    || { cat "$scratch/err" >&2; exit 1; }
  echo "init $i: $(elapsed "$started")"
done
started=$(seconds)
"$planton" tofu init -f "$scratch/manifests/m1.yaml" "$@" > /dev/null 2>&1
echo "init 1 again (nothing to do): $(elapsed "$started")"
echo "workspaces: $(du -sk "$scratch/work" | cut -f1) KB for $count"
if [ -d "$HOME/.cache/planton" ]; then
  echo "planton's cache: $(du -sk "$HOME/.cache/planton" | cut -f1) KB"
fi
