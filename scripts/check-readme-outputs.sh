#!/usr/bin/env bash
# Checks that README.md is current: re-runs the commands whose output it shows (scripts/capture-readme-
# outputs.sh --out TMP, without the benchmarks and the full exhaustive search, whose completion within its
# --time budget depends on the machine), compares with docs/readme/captured/ after removing what
# depends on the machine (wall-clock seconds, rates, memory, worker counts), and checks that README.md is
# what scripts/build-readme.py assembles. Exit 1 with a diff when anything is stale; fix it with
# `npm run readme:capture`. Run after `npm run build` (`npm run readme:check` does both).
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/faultline-readme-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bash scripts/capture-readme-outputs.sh --no-bench --quick --out "$tmp/captured" || exit 2

# Machine-dependent parts: durations and rates of the checker, peak memory, the worker pool's size.
filter() {
  sed -E \
    -e 's/ in [0-9.]+ s \([0-9,]+ schedules\/s\)/ in <s> s (<rate> schedules\/s)/' \
    -e 's/^(  memory     ).*/\1<machine>/' \
    -e 's/^(  search     [0-9,]+ units? of work in [0-9,]+ rounds? ).*/\1<machine>/' \
    "$1"
}
status=0
for f in "$tmp"/captured/*.txt; do
  name=$(basename "$f")
  want=docs/readme/captured/$name
  if [ ! -f "$want" ]; then echo "readme:check: $want is missing" >&2; status=1; continue; fi
  if ! diff -u --label "$want (captured)" --label "$name (now)" <(filter "$want") <(filter "$f"); then
    echo "readme:check: $want is stale" >&2
    status=1
  fi
done
if ! python3 scripts/build-readme.py --check; then status=1; fi
if [ "$status" = 0 ]; then echo "readme:check: README.md and its captured outputs are current"; else
  echo "readme:check: stale; run \`npm run readme:capture\` and commit the result" >&2; fi
exit $status
