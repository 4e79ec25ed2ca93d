#!/usr/bin/env bash
# Capture the real command output that README.md shows (docs/readme/captured/*.txt), then rebuild README.md
# from docs/readme/*.md and the manuals in docs/ (scripts/build-readme.py). Run after `npm run build`
# (`npm run readme:capture` does both).
#   --no-bench   the Performance section keeps the figures captured last time
#   --out DIR    write the captured files to DIR instead (README.md untouched; used by the check)
#   --quick      leave out the full exhaustive search (a minute on 2 cores; whether it completes within its
#                --time budget depends on the machine's speed, so the check cannot compare it)
set -u
cd "$(dirname "$0")/.."
root=$PWD
out=docs/readme/captured
bench=1
readme=1
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-bench) bench=0 ;;
    --quick) quick=1 ;;
    --out) out=$2; readme=0; shift ;;
    *) echo "usage: $0 [--no-bench] [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
tmp=$(mktemp -d /tmp/faultline-readme-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fl() { node "$root/bin/faultline.js" "$@"; }
show() { echo "\$ faultline $*" | sed "s#$tmp/##g"; }

# The demo runs where a user runs `npm start`: its report lands in ./faultline-report/.
{ show demo; (cd "$tmp" && fl demo 2>&1); echo "(exit status $?)"; } > "$out/DEMO_OUTPUT.txt"
{ show check pervma-fork-race-mini --kind lost_update --out "$tmp/race.json"
  fl check pervma-fork-race-mini --kind lost_update --out "$tmp/race.json" 2>&1 | sed "s#$tmp/##g"
  echo "(exit status ${PIPESTATUS[0]})"; } > "$out/CHECK_OUTPUT.txt"
{ show replay "$tmp/race.json"; fl replay "$tmp/race.json" 2>&1 | sed "s#$tmp/##g" | head -14
  echo "   ... (the same table as above)"; } > "$out/REPLAY_OUTPUT.txt"
{ show check pervma-fork-race-mini --kernel 6.4.3 --budget 500
  fl check pervma-fork-race-mini --kernel 6.4.3 --budget 500; echo "(exit status $?)"; echo
  show check pervma-fork-race-mini --kernel 6.4.3 --disable-site dup_mmap:vma_start_write --kind lost_update
  fl check pervma-fork-race-mini --kernel 6.4.3 --disable-site dup_mmap:vma_start_write --kind lost_update | head -7
  echo "   ..."; } > "$out/CHECK_FIXED_OUTPUT.txt"
{ show check pervma-check-small --strategy exhaustive --set 'workloads[1].enabled=false' --set machine.cpus=3
  fl check pervma-check-small --strategy exhaustive --set 'workloads[1].enabled=false' --set machine.cpus=3
  echo "(exit status $?)"; } > "$out/CHECK_EXHAUSTIVE_OUTPUT.txt"
if [ "$quick" = 0 ]; then
  { show check pervma-check-small --strategy exhaustive --budget 100000000 --time 300
    fl check pervma-check-small --strategy exhaustive --budget 100000000 --time 300
    echo "(exit status $?)"; } > "$out/CHECK_EXHAUSTIVE_FULL_OUTPUT.txt"
fi
if [ "$bench" = 1 ]; then
  { echo '```'; echo '$ npm run bench'; node --max-semi-space-size=32 dist/bench/main.js; echo '```'; } > "$out/BENCH_OUTPUT.txt"
fi
if [ "$readme" = 1 ]; then python3 scripts/build-readme.py; fi
