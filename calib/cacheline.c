// Cache-line costs behind src/sync/cacheline.ts (DEFAULT_CACHE_COSTS), on this machine's CPUs.
// Build: cc -O2 -pthread -o cacheline cacheline.c   Run: ./cacheline [reps]
// Threads are pinned (CPU0, and CPU1 for the two-CPU rows). Every RMW is an inline-asm lock-prefixed
// instruction, so the compiler can neither drop, merge nor hoist it (check: objdump -d cacheline |
// grep -c lock). Each row: the median over reps of a rep's value; a rep's value is the median over
// batches of each batch's mean (wall clock, TSC-backed CLOCK_MONOTONIC). Every rep also reports the
// CPU share other processes took while it ran (from /proc/stat minus this process), and the steal
// time the hypervisor reported: a row measured while others ran is marked by that column.
//
//  rmw_local_chain      latency of one `lock xadd` in a dependent chain (each one adds the value the
//                       previous one returned: a data dependency, besides the one through memory) on
//                       a line this CPU owns: atomicLocalNs, what an uncontended lock word RMW costs
//  cas_local_chain      the same with `lock cmpxchg` (the queued_spin_lock fast path's instruction)
//  spin_pair_local      `lock cmpxchg` 0->1 then a plain store of 0 (spin_lock + spin_unlock, x86's
//                       queued_spin_unlock is a release store): one locked RMW + one store per pair
//  rmw_pingpong_oneway  two CPUs take turns incrementing one counter with `lock cmpxchg` (n -> n+1,
//                       CPU0 on even n, CPU1 on odd n), each spinning with the cmpxchg itself (no
//                       plain read in between: every attempt is an RMW that takes the line), round
//                       trip / 2: an RMW on a line the other CPU wrote last, transfer included:
//                       atomicRemoteNs
//  read_pingpong_oneway two CPUs take turns on one line with plain loads and stores (spin reading
//                       until the other CPU's value appears, then store the next), round trip / 2: a
//                       plain read of a line the other CPU wrote last: readRemoteNs
//  rmw_remote_single    cross-check of rmw_pingpong_oneway without spinning: CPU1 writes the data
//                       line then raises a flag on another line; CPU0 sees the flag and times one
//                       `lock xadd` on the data line with rdtscp (fenced), minus the same timing of
//                       an RMW on a line CPU0 owns (rdtscp_overhead); TSC ticks converted with the
//                       TSC rate measured against CLOCK_MONOTONIC
//  read_remote_single   the same for one plain (dependent) load of the data line
#define _GNU_SOURCE
#include "calib.h"
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

// ---- background load: CPU time of all processes (from /proc/stat) minus this process's, per CPU
struct load {
  double busy_s, steal_s, self_s, wall_s;
};
static struct load load_now(void) {
  struct load l = {0};
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long u, n, s, idle, io, irq, sirq, st;
  if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq, &sirq, &st) == 8) {
    double hz = sysconf(_SC_CLK_TCK);
    l.busy_s = (u + n + s + irq + sirq) / hz;
    l.steal_s = st / hz;
  }
  if (f) fclose(f);
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  l.self_s = r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
  l.wall_s = wall_ns() / 1e9;
  return l;
}
static int ncpu;
/* share of the machine's CPUs other processes used between a and b (0..1), and steal share */
static double other_frac(struct load a, struct load b, double *steal) {
  double wall = (b.wall_s - a.wall_s) * ncpu;
  *steal = (b.steal_s - a.steal_s) / wall;
  double o = ((b.busy_s - a.busy_s) - (b.self_s - a.self_s)) / wall;
  return o < 0 ? 0 : o;
}

// ---- one CPU
static _Alignas(64) volatile uint64_t word;
static _Alignas(64) volatile uint64_t pad_after[8];

static inline uint64_t lock_xadd(volatile uint64_t *p, uint64_t v) {
  __asm__ __volatile__("lock xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
  return v;
}
/* returns the value found; stores nv if it was old */
static inline uint64_t lock_cmpxchg(volatile uint64_t *p, uint64_t old, uint64_t nv) {
  __asm__ __volatile__("lock cmpxchgq %2, %1" : "+a"(old), "+m"(*p) : "r"(nv) : "memory", "cc");
  return old;
}

#define BATCHES 201
static double per_batch[BATCHES];

static double rmw_local_chain(void) {
  const int N = 20000;
  word = 0;
  for (int b = 0; b < BATCHES; b++) {
    uint64_t v = 1;
    double t0 = wall_ns();
    for (int i = 0; i < N; i++) v = lock_xadd(&word, (v & 1) | 1);  // next addend depends on the result
    per_batch[b] = (wall_ns() - t0) / N;
    if (v == 12345) puts("");  // keeps v live
  }
  return median(per_batch, BATCHES);
}

static double cas_local_chain(void) {
  const int N = 20000;
  word = 0;
  for (int b = 0; b < BATCHES; b++) {
    uint64_t v = word;
    double t0 = wall_ns();
    for (int i = 0; i < N; i++) v = lock_cmpxchg(&word, v, v + 1) + 1;  // succeeds: v is the value found
    per_batch[b] = (wall_ns() - t0) / N;
  }
  return median(per_batch, BATCHES);
}

static double spin_pair_local(void) {
  const int N = 20000;
  word = 0;
  for (int b = 0; b < BATCHES; b++) {
    double t0 = wall_ns();
    for (int i = 0; i < N; i++) {
      while (lock_cmpxchg(&word, 0, 1) != 0) {
      }
      __asm__ __volatile__("" ::: "memory");
      word = 0;  // release store (queued_spin_unlock: smp_store_release of the locked byte)
    }
    per_batch[b] = (wall_ns() - t0) / N;
  }
  return median(per_batch, BATCHES);
}

// ---- two CPUs
static _Alignas(64) volatile uint64_t ball;
static _Alignas(64) volatile uint64_t flag;
static _Alignas(64) volatile uint64_t other_line;
static _Alignas(64) volatile int stop_partner;
static int mode;  // 1: rmw ping-pong, 2: read ping-pong, 3: single-op partner
enum { ROUNDS = 2000 };

static void *partner(void *arg) {
  (void)arg;
  pin(1);
  if (mode == 1) {
    // odd turns, spinning with the RMW itself (every attempt takes the line exclusive): n -> n+1
    for (uint64_t n = 1;; n += 2) {
      while (lock_cmpxchg(&ball, n, n + 1) != n)
        if (stop_partner) return NULL;
    }
  } else if (mode == 2) {
    for (uint64_t n = 1;; n += 2) {
      while (ball != n)
        if (stop_partner) return NULL;
      ball = n + 1;
    }
  } else {
    // single-op: write the data line, then raise the flag; wait for CPU0 to lower it
    uint64_t k = 0;
    for (;;) {
      while (flag != 0)
        if (stop_partner) return NULL;
      if (stop_partner) break;
      lock_xadd(&ball, 1);  // the data line is now owned (modified) by CPU1
      flag = ++k;
    }
  }
  return NULL;
}

static double pingpong(int m) {
  pthread_t t;
  mode = m;
  stop_partner = 0;
  ball = 0;
  pthread_create(&t, NULL, partner, NULL);
  pin(0);
  uint64_t n = 0;  // even turns are this CPU's
  for (int b = -10; b < BATCHES; b++) {  // 10 warm-up batches: the partner starts spinning
    double t0 = wall_ns();
    for (int i = 0; i < ROUNDS; i++, n += 2) {
      if (m == 1) {
        while (lock_cmpxchg(&ball, n, n + 1) != n) {
        }
      } else {
        while (ball != n) {
        }
        ball = n + 1;
      }
    }
    if (b >= 0) per_batch[b] = (wall_ns() - t0) / ROUNDS / 2;  // two one-way transfers per round
  }
  while (ball != n) {
  }
  stop_partner = 1;
  pthread_join(t, NULL);
  return median(per_batch, BATCHES);
}

static double tsc_per_ns;
static inline uint64_t tsc_begin(void) {
  unsigned a;
  _mm_lfence();
  uint64_t t = __rdtscp(&a);
  _mm_lfence();
  return t;
}

/* times one op on the data line, after CPU1 wrote it (remote) or after CPU0 did (local) */
static void single_ops(double *rmw_ns, double *read_ns, double *overhead_rmw, double *overhead_read) {
  enum { S = 4001 };
  static double rr[S], rd[S], lr[S], ld[S];
  pthread_t t;
  mode = 3;
  stop_partner = 0;
  flag = 0;
  pthread_create(&t, NULL, partner, NULL);
  pin(0);
  for (int i = 0; i < S; i++) {
    for (int kind = 0; kind < 2; kind++) {
      // remote: wait for CPU1's write + flag
      while (flag == 0) {
      }
      uint64_t t0 = tsc_begin(), t1;
      if (kind == 0) {
        lock_xadd(&ball, 1);
      } else {
        uint64_t v = ball;
        __asm__ __volatile__("" : : "r"(v));
      }
      t1 = tsc_begin();
      (kind == 0 ? rr : rd)[i] = (t1 - t0) / tsc_per_ns;
      // local anchor: the same op on a line this CPU wrote just before
      lock_xadd(&other_line, 1);
      t0 = tsc_begin();
      if (kind == 0) {
        lock_xadd(&other_line, 1);
      } else {
        uint64_t v = other_line;
        __asm__ __volatile__("" : : "r"(v));
      }
      t1 = tsc_begin();
      (kind == 0 ? lr : ld)[i] = (t1 - t0) / tsc_per_ns;
      flag = 0;  // hand the data line back to CPU1
    }
  }
  stop_partner = 1;
  pthread_join(t, NULL);
  double mlr = median(lr, S), mld = median(ld, S);
  *rmw_ns = median(rr, S) - mlr;
  *read_ns = median(rd, S) - mld;
  *overhead_rmw = mlr;
  *overhead_read = mld;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 9;
  if (reps > 64) reps = 64;
  ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 2) {
    fprintf(stderr, "cacheline: needs 2 CPUs, found %d\n", ncpu);
    return 2;
  }
  pin(0);
  tsc_per_ns = tsc_rate();
  double a[64], c[64], p[64], rp[64], dp[64], rs[64], ds[64], ovr[64], ovd[64], other[64], steal[64];
  printf("# cpus %d, reps %d, tsc %.3f GHz; per rep: other processes' CPU share, steal share\n", ncpu, reps, tsc_per_ns);
  printf("# rep rmw_local_chain cas_local_chain spin_pair_local rmw_pingpong_oneway read_pingpong_oneway "
         "rmw_remote_single read_remote_single (rdtscp_overhead rmw read) other_cpu_frac steal_frac\n");
  for (int r = 0; r < reps; r++) {
    struct load l0 = load_now();
    a[r] = rmw_local_chain();
    c[r] = cas_local_chain();
    p[r] = spin_pair_local();
    rp[r] = pingpong(1);
    dp[r] = pingpong(2);
    single_ops(&rs[r], &ds[r], &ovr[r], &ovd[r]);
    other[r] = other_frac(l0, load_now(), &steal[r]);
    printf("rep %d %.2f %.2f %.2f %.1f %.1f %.1f %.1f (%.1f %.1f) %.3f %.3f\n", r, a[r], c[r], p[r], rp[r], dp[r], rs[r], ds[r],
           ovr[r], ovd[r], other[r], steal[r]);
  }
  printf("# medians over %d reps, ns per operation\n", reps);
  printf("rmw_local_chain %.2f\n", median(a, reps));
  printf("cas_local_chain %.2f\n", median(c, reps));
  printf("spin_pair_local %.2f\n", median(p, reps));
  printf("rmw_pingpong_oneway %.1f\n", median(rp, reps));
  printf("read_pingpong_oneway %.1f\n", median(dp, reps));
  printf("rmw_remote_single %.1f\n", median(rs, reps));
  printf("read_remote_single %.1f\n", median(ds, reps));
  printf("other_cpu_frac %.3f\n", median(other, reps));
  printf("steal_frac %.3f\n", median(steal, reps));
  return 0;
}
