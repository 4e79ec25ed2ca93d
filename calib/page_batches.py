# Analysis of a page_batches.sh run: reads the program's times and the compacted trace, prints the
# batch sizes, the intervals per k and the line over k (see page_batches.c).
# Usage: python3 page_batches.py TIMES EVENTS
import statistics, sys
from collections import defaultdict

times, events = sys.argv[1], sys.argv[2]
rows = [l.split() for l in open(times)]
tsc_per_ns = float(rows[0][1]); pid = rows[0][3]
names = {"Z": "rmqueue_bulk (zone->lock): mm_page_alloc_zone_locked, movable",
         "Z0": "rmqueue_bulk (zone->lock): mm_page_alloc_zone_locked, unmovable (page tables)",
         "L": "folio_batch_move_lru (lru_lock): mm_lru_insertion",
         "D": "free_pcppages_bulk (zone->lock): mm_page_pcpu_drain"}
gap_max = 5000 * tsc_per_ns  # a batch's events are ~0.1 us apart; batches are >= 1 fault apart
deltas = defaultdict(list)   # (kind, k) -> ns between consecutive events of one batch
rdeltas = defaultdict(list)  # (kind, k, rep) -> the same, per rep
runs = defaultdict(list)     # (kind, k) -> (events, span ns)
counts = defaultdict(int)    # (rep, k, kind) -> events
k = rep = None
prev = None                  # (kind, ts) of the previous event of this process on CPU 0
cur = None                   # [kind, first ts, last ts, n]
def close():
    if cur and k:
        runs[(cur[0], k)].append((cur[3], (cur[2] - cur[1]) / tsc_per_ns))
for line in open(events):
    f = line.split()
    if f[0] != pid or f[1] != "0":
        continue
    ts = int(f[2]); ev = f[3]
    if ev == "M":
        close(); cur = None; rep, k = int(f[4]), int(f[5]); continue
    if ev == "Z":
        if f[5] != "1":
            kind = "Zsingle"   # rmqueue_buddy: one page, not a pcp refill
        else:
            kind = "Z" if f[4] == "1" else "Z0"
    else:
        kind = ev
    counts[(rep, k, kind)] += 1
    if cur and cur[0] == kind and ts - cur[2] < gap_max:
        if k:
            deltas[(kind, k)].append((ts - cur[2]) / tsc_per_ns)
            rdeltas[(kind, k, rep)].append((ts - cur[2]) / tsc_per_ns)
        cur[2] = ts; cur[3] += 1
    else:
        close(); cur = [kind, ts, ts, 1]
close()
ks = sorted({key[1] for key in deltas})
def line(xs, ys):
    n = len(xs); sx = sum(xs); sy = sum(ys); sxx = sum(x * x for x in xs); sxy = sum(x * y for x, y in zip(xs, ys))
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return slope, (sy - slope * sx) / n
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
# the probe's cost: CPU time per prctl() with task_prctl_unknown in k instances minus in none
pr = defaultdict(list)
for r in rows[1:]:
    pr[int(r[3])].append(float(r[9]))
probe = {kk: statistics.median(pr[kk]) - statistics.median(pr[0]) for kk in pr}
print("# for comparison, a probe in syscall context (task:task_prctl_unknown, CPU time per prctl, median over reps):",
      f"prctl {statistics.median(pr[0]):.1f} ns untraced;",
      " ".join(f"k={kk}: +{probe[kk]:.1f} ({probe[kk] / kk:.1f}/instance)" for kk in sorted(probe) if kk))
print("# per kind: batches (events per batch: median, min, max, most frequent); then per k instances:")
print("#   ns between consecutive events of a batch: median [p10 p90] (n); the line over k; its value at k=0 is")
print("#   the kernel's work per page or folio in that loop without tracing")
for kind in ("Z", "Z0", "L", "D"):
    allruns = [r for kk in ks for r in runs[(kind, kk)]]
    if not allruns:
        print(f"{kind} {names[kind]}: no batches"); continue
    sizes = [n for n, _ in allruns]
    freq = defaultdict(int)
    for s_ in sizes: freq[s_] += 1
    top = sorted(freq.items(), key=lambda x: -x[1])[:8]
    print(f"{kind} {names[kind]}")
    print(f"  batches {len(sizes)} events_per_batch median {statistics.median(sizes):.0f} min {min(sizes)} max {max(sizes)} most_frequent {' '.join(f'{s_}x{c}' for s_, c in top)}")
    xs, ys = [], []
    for kk in ks:
        d = deltas[(kind, kk)]
        if len(d) < 10:
            continue
        m = statistics.median(d)
        xs.append(kk); ys.append(m)
        print(f"  k={kk} interval_ns {m:.1f} [{q(d, .1):.1f} {q(d, .9):.1f}] (n {len(d)})")
    if len(xs) >= 2:
        slope, icpt = line(xs, ys)
        res = max(abs(y - (icpt + slope * x)) for x, y in zip(xs, ys))
        print(f"  line over k: {slope:.1f} ns per instance (probe), {icpt:.1f} at k=0 (max residual {res:.1f})")
        # the same line fitted in each rep alone: its spread is the figure's uncertainty
        per_rep = []
        for rep_ in sorted({key[2] for key in rdeltas if key[0] == kind}):
            px = [kk for kk in ks if len(rdeltas[(kind, kk, rep_)]) >= 10]
            if len(px) >= 3:
                per_rep.append(line(px, [statistics.median(rdeltas[(kind, kk, rep_)]) for kk in px])[1])
        if per_rep:
            print(f"  per rep, value at k=0: median {statistics.median(per_rep):.1f} min {min(per_rep):.1f} max {max(per_rep):.1f} (reps {len(per_rep)})")
        med_n = statistics.median(sizes)
        print(f"  work_ns_per_event {icpt:.1f}; lock hold per batch ~ {med_n:.0f} x {icpt:.1f} = {med_n * icpt / 1000:.2f} us (median batch), {max(sizes) * icpt / 1000:.2f} us (largest)")
# cross-check: CPU time of the workload with k instances against k = 0, per event and instance
tm = defaultdict(list)
for r in rows[1:]:
    tm[int(r[3])].append(float(r[5]) + float(r[7]))
per = defaultdict(lambda: defaultdict(int))
for (rep_, kk, kind), c in counts.items():
    per[kk][rep_] += c
print("# cross-check: CPU time of fault + unmap per rep (median over reps) and events per rep")
base = statistics.median(tm[0])
for kk in sorted(tm):
    extra = ""
    if kk and per.get(kk):
        ev = statistics.median(per[kk].values())
        extra = f" events {ev:.0f} -> ns_per_event_per_instance {(statistics.median(tm[kk]) - base) / ev / kk:.1f}"
    print(f"k={kk} cpu_ms {statistics.median(tm[kk]) / 1e6:.2f}{extra}")
