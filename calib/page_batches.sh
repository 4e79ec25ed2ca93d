#!/bin/sh
# Runs page_batches with the kmem/pagemap tracepoints in 1..4 tracefs instances (TSC clock) and
# prints, per locked loop: the batch sizes (events per batch), the interval between consecutive
# events of one batch (median, ns) for each number k of instances, the line fitted over k and its
# value at k = 0 (the kernel's work per page or folio without tracing), the lock hold per batch, and
# the CPU-time cross-check of the probe cost. Usage: sh page_batches.sh [pages] [reps]   (root)
set -e
pages=${1:-65536}
reps=${2:-5}
dir=/tmp/page_batches.d
here=$(dirname "$0")
T=/sys/kernel/tracing
[ -e $T/instances ] || mount -t tracefs nodev $T
mkdir -p "$dir"
cc -O2 -o "$dir/page_batches" "$here/page_batches.c"
insts=""
for i in 0 1 2 3; do
  I=$T/instances/fl_page_batches$i
  [ -d "$I" ] || mkdir "$I"
  echo x86-tsc > "$I/trace_clock"
  # the first instance is read while the program runs; the others are emptied before every rep and
  # hold a whole rep (no overwriting, which would cost more per event)
  echo 65536 > "$I/buffer_size_kb"
  echo > "$I/trace"
  insts="$insts $I"
done
I0=$T/instances/fl_page_batches0
echo "# $(date -u) $(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# pages $pages reps $reps; Normal zone pcp (cpu 0) before: $(awk '/zone +Normal/ { z = 1 } z && /cpu: 0/ { c = 1 } z && c && /count:|high:|batch:|high_min:|high_max:/ { printf "%s %s ", $1, $2 } z && c && /high_max/ { exit }' /proc/zoneinfo)"
rm -f "$dir/pipe"
mkfifo "$dir/pipe"
# compact lines: pid cpu tsc event [migratetype percpu_refill | rep k]
awk '{
    for (i = 1; i <= NF; i++) if ($i ~ /^\[[0-9]+\]$/) break
    if (i > NF) next
    pid = $(i - 1); sub(/.*-/, "", pid); cpu = substr($i, 2, length($i) - 2) + 0
    ts = $(i + 2); sub(/:$/, "", ts); ev = $(i + 3)
    if (ev == "mm_page_alloc_zone_locked:") {
      mt = $0; sub(/.*migratetype=/, "", mt); sub(/ .*/, "", mt)
      pr = $0; sub(/.*percpu_refill=/, "", pr); sub(/ .*/, "", pr)
      print pid, cpu, ts, "Z", mt, pr
    } else if (ev == "mm_lru_insertion:") print pid, cpu, ts, "L"
    else if (ev == "mm_page_pcpu_drain:") print pid, cpu, ts, "D"
    else if (ev == "tracing_mark_write:" && $(i + 4) == "fl_rep") print pid, cpu, ts, "M", $(i + 5), $(i + 7)
  }' < "$dir/pipe" > "$dir/events.txt" &
awk_pid=$!
taskset -c 1 cat "$I0/trace_pipe" > "$dir/pipe" &
cat_pid=$!
"$dir/page_batches" "$pages" "$reps" $insts > "$dir/times.txt"
sleep 2
kill "$cat_pid"
wait "$awk_pid" || true
echo "# end $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg); dropped events in instance 0: $(grep -h overrun $I0/per_cpu/cpu*/stats | awk '{ s += $2 } END { print s }')"
echo "# Normal zone pcp (cpu 0) after: $(awk '/zone +Normal/ { z = 1 } z && /cpu: 0/ { c = 1 } z && c && /count:|high:|batch:|high_min:|high_max:/ { printf "%s %s ", $1, $2 } z && c && /high_max/ { exit }' /proc/zoneinfo)"
for i in 0 1 2 3; do rmdir "$T/instances/fl_page_batches$i"; done
rm -f "$dir/pipe"
python3 "$here/page_batches.py" "$dir/times.txt" "$dir/events.txt"
