#!/bin/sh
# Runs xarray_tag under perf and prints, per file size and call, the interval between
# ext4:ext4_writepages and the first ext4:ext4_da_write_folios_start of the same call (median over
# reps), then the least-squares slope in ns per page: fsync (WB_SYNC_ALL, tags) and
# sync_file_range (WB_SYNC_NONE, does not tag). The difference of the slopes is
# tag_pages_for_writeback per page. Usage: sh xarray_tag.sh [dir on ext4] [reps]   (root)
set -e
dir=${1:-/tmp/xarray_tag.d}
reps=${2:-9}
here=$(dirname "$0")
mkdir -p "$dir"
cc -O2 -o "$dir/xarray_tag" "$here/xarray_tag.c"
echo "# $(date -u) $(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) load $(cut -d' ' -f1-3 /proc/loadavg)"
perf record -q -o "$dir/perf.data" -e ext4:ext4_writepages -e ext4:ext4_da_write_folios_start -- \
  "$dir/xarray_tag" "$dir" "$reps" > "$dir/files.txt"
perf script --ns -i "$dir/perf.data" -F time,event,trace 2>/dev/null > "$dir/events.txt"
echo "# end $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg)"
# files.txt gives each call's N in order; events: one ext4_writepages per call, then its first
# ext4_da_write_folios_start
awk '
  FNR == NR { n[++nf] = $3; kind[nf] = $4; next }
  /ext4_writepages:/ { t0 = $1 + 0; call++; open = 1; next }
  /ext4_da_write_folios_start:/ && open { d = ($1 - t0) * 1e9; v[kind[call] " " n[call]] = v[kind[call] " " n[call]] " " d; open = 0 }
  END {
    for (k in v) {
      m = split(v[k], a, " ")
      for (i = 2; i <= m; i++) { x = a[i] + 0; j = i - 1; while (j > 0 && a[j] + 0 > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
      med = a[int((m + 1) / 2)]
      split(k, kk, " "); printf "%s %d %.0f (runs %d, min %.0f, max %.0f)\n", kk[1], kk[2], med, m, a[1], a[m]
    }
  }' "$dir/files.txt" "$dir/events.txt" | sort -k1,1 -k2,2n > "$dir/medians.txt"
echo "# call pages interval_ns_median (runs, min, max)"
cat "$dir/medians.txt"
awk '{ k = $1; x = $2; y = $3; sx[k] += x; sy[k] += y; sxx[k] += x * x; sxy[k] += x * y; c[k]++ }
  END { for (k in c) { s = (c[k] * sxy[k] - sx[k] * sy[k]) / (c[k] * sxx[k] - sx[k] * sx[k]); printf "slope_%s_ns_per_page %.1f\n", k, s; sl[k] = s }
        printf "tag_pages_for_writeback_ns_per_page %.1f\n", sl["fsync"] - sl["sfr"] }' "$dir/medians.txt"
rm -f "$dir"/xarray_tag.[0-9]*
