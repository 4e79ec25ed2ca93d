// Lock and wake-up costs behind the fs model's writeback locks, on this machine's CPU and kernel.
// Build: cc -O2 -pthread -o writeback_locks writeback_locks.c   Run: ./writeback_locks [reps]
// Prints one line per measurement, in ns per operation: the median over reps of each rep's value, a
// rep's value being the fastest of many short batches (wall clock) or, for the futex wake and getpid,
// thread CPU time, so that other jobs of a loaded machine do not count.
//  spin_pair_local     lock + unlock of an uncontended spinlock word (one CPU): the lock word RMW
//                      a spin_lock_irqsave/xa_lock round trip pays when the line is already local
//  line_transfer       one-way cache-line transfer between two CPUs (ping-pong of a flag, / 2): what
//                      an RMW pays when another CPU wrote the lock word last
//  futex_wake_one      FUTEX_WAKE of one task sleeping in FUTEX_WAIT on the other CPU, minus a
//                      getpid() syscall: the futex hash lookup + try_to_wake_up of one waiter
//                      (folio_wake_bit's wake of a task in folio_wait_bit)
//  getpid_syscall      the syscall entry/exit subtracted above
//  waitq_walk_warm     per entry of a walk over a list of 64-byte wait entries on separate lines
//                      with a key compare (wake_page_function's folio/bit test), list in cache
//  waitq_walk_cold     the same after evicting the caches (32 MiB touched): one miss per entry
#include "calib.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// ---- spinlock round trip, one CPU
static _Alignas(64) atomic_int lockword;
static double spin_pair_local(void) {
  const int B = 200, N = 10000;
  double best = 1e18;
  for (int b = 0; b < B; b++) {
    double t0 = wall_ns();
    for (int i = 0; i < N; i++) {
      int z = 0;
      while (!atomic_compare_exchange_weak_explicit(&lockword, &z, 1, memory_order_acquire, memory_order_relaxed)) z = 0;
      atomic_store_explicit(&lockword, 0, memory_order_release);
    }
    double d = (wall_ns() - t0) / N;
    if (d < best) best = d;
  }
  return best;
}

// ---- cache-line ping-pong between CPU0 and CPU1
static _Alignas(64) atomic_int ball;
static volatile int pp_stop;
static void *pong(void *arg) {
  (void)arg;
  pin(1);
  while (!pp_stop) {
    if (atomic_load_explicit(&ball, memory_order_acquire) == 1) atomic_store_explicit(&ball, 0, memory_order_release);
  }
  return NULL;
}
static double line_transfer(void) {
  const int N = 200000;
  pthread_t t;
  pp_stop = 0;
  atomic_store(&ball, 0);
  pthread_create(&t, NULL, pong, NULL);
  pin(0);
  // let the other thread start spinning
  for (int i = 0; i < 1000; i++) {
    atomic_store(&ball, 1);
    while (atomic_load(&ball) == 1) {
    }
  }
  // batches of 100 round trips; the fastest batch is one where both threads ran throughout
  double per = 1e18;
  for (int b = 0; b < N / 100; b++) {
    double t0 = wall_ns();
    for (int i = 0; i < 100; i++) {
      atomic_store_explicit(&ball, 1, memory_order_release);
      while (atomic_load_explicit(&ball, memory_order_acquire) == 1) {
      }
    }
    double d = (wall_ns() - t0) / 100 / 2;  // two transfers per round trip
    if (d < per) per = d;
  }
  pp_stop = 1;
  pthread_join(t, NULL);
  return per;
}

// ---- futex wake of one sleeping waiter on the other CPU
static _Alignas(64) atomic_int fword;
static atomic_int waiting, fw_stop;
static long futex(atomic_int *a, int op, int v) { return syscall(SYS_futex, a, op, v, NULL, NULL, 0); }
static void *sleeper(void *arg) {
  (void)arg;
  pin(1);
  while (!atomic_load(&fw_stop)) {
    atomic_store(&waiting, 1);
    futex(&fword, FUTEX_WAIT_PRIVATE, 0);
  }
  return NULL;
}
static double futex_wake_one(double *getpid_ns) {
  const int N = 5000;
  pthread_t t;
  atomic_store(&fw_stop, 0);
  pthread_create(&t, NULL, sleeper, NULL);
  pin(0);
  double sum = 0;
  int n = 0;
  for (int i = 0; i < N; i++) {
    // wait until the sleeper announced itself, then give it time to be asleep in the kernel
    while (!atomic_load(&waiting)) sched_yield();
    atomic_store(&waiting, 0);
    double s = wall_ns();
    while (wall_ns() - s < 20000) {
    }
    double t0 = cpu_ns();
    long woke = futex(&fword, FUTEX_WAKE_PRIVATE, 1);
    double d = cpu_ns() - t0;
    if (woke == 1) {
      sum += d;
      n++;
    } else  // not asleep yet (a loaded machine): wake it when it is, do not count this one
      while (futex(&fword, FUTEX_WAKE_PRIVATE, 1) == 0) sched_yield();
  }
  atomic_store(&fw_stop, 1);
  while (pthread_tryjoin_np(t, NULL) != 0) {
    futex(&fword, FUTEX_WAKE_PRIVATE, 1);
    sched_yield();
  }
  double g = 1e18;
  for (int b = 0; b < 100; b++) {
    double g0 = cpu_ns();
    for (int i = 0; i < 2000; i++) syscall(SYS_getpid);
    double d = (cpu_ns() - g0) / 2000;
    if (d < g) g = d;
  }
  *getpid_ns = g;
  return n > 0 ? sum / n - *getpid_ns : 0;
}

// ---- wait-queue walk
struct entry {
  struct entry *next;
  void *folio;
  int bit;
  char pad[64 - sizeof(void *) * 2 - sizeof(int)];
};
static double waitq_walk(int cold, int nent) {
  // entries scattered over 4 MiB, one per page-sized slot, in shuffled order
  const size_t slot = 4096;
  char *mem = aligned_alloc(4096, slot * nent);
  int *order = malloc(sizeof(int) * nent);
  for (int i = 0; i < nent; i++) order[i] = i;
  srand(1);
  for (int i = nent - 1; i > 0; i--) {
    int j = rand() % (i + 1), x = order[i];
    order[i] = order[j];
    order[j] = x;
  }
  for (int i = 0; i < nent; i++) {
    struct entry *e = (struct entry *)(mem + slot * order[i]);
    e->next = i + 1 < nent ? (struct entry *)(mem + slot * order[i + 1]) : NULL;
    e->folio = (void *)(uintptr_t)(i + 1);
    e->bit = 13;
  }
  size_t evsz = 32u << 20;
  char *ev = malloc(evsz);
  memset(ev, 1, evsz);
  const int R = 50;
  double best[50];
  volatile long sink = 0;
  for (int r = 0; r < R; r++) {
    if (cold)
      for (size_t k = 0; k < evsz; k += 64) sink += ev[k]++;
    double t0 = wall_ns();
    long hits = 0;
    for (struct entry *e = (struct entry *)(mem + slot * order[0]); e; e = e->next)
      if (e->folio == (void *)(uintptr_t)0 && e->bit == 13) hits++;  // no entry matches: walk them all
    best[r] = (wall_ns() - t0) / nent;  // the median over R walks below
    sink += hits;
  }
  free(ev);
  free(order);
  free(mem);
  return median(best, R);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 7;
  double a[64], b[64], c[64], d[64], e[64], f[64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < reps; r++) {
    a[r] = spin_pair_local();
    b[r] = line_transfer();
    c[r] = futex_wake_one(&d[r]);
    e[r] = waitq_walk(0, 1024);
    f[r] = waitq_walk(1, 1024);
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  printf("# cpus %ld, reps %d (medians, ns per operation)\n", ncpu, reps);
  printf("spin_pair_local %.1f\n", median(a, reps));
  printf("line_transfer %.1f\n", median(b, reps));
  printf("futex_wake_one %.1f\n", median(c, reps));
  printf("getpid_syscall %.1f\n", median(d, reps));
  printf("waitq_walk_warm %.1f\n", median(e, reps));
  printf("waitq_walk_cold %.1f\n", median(f, reps));
  return 0;
}
