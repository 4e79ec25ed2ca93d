// Helpers shared by the calib/ programs (timers, medians, CPU pinning, the TSC rate).
#ifndef FAULTLINE_CALIB_H
#define FAULTLINE_CALIB_H
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

/* wall clock (TSC-backed CLOCK_MONOTONIC), ns */
static inline double wall_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* CPU time of this thread, user + system, ns: excludes the time other jobs on a loaded machine take */
static inline double cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

static int calib_cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* the median of v[0..n) (sorts v in place) */
static inline double median(double *v, int n) {
  qsort(v, n, sizeof *v, calib_cmpd);
  return v[n / 2];
}

/* runs the calling thread on one CPU only */
static inline void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  if (sched_setaffinity(0, sizeof s, &s) != 0) {
    perror("sched_setaffinity");
    exit(1);
  }
}

/* TSC ticks per ns, against CLOCK_MONOTONIC over 50 ms */
static inline double tsc_rate(void) {
  double t0 = wall_ns();
  uint64_t c0 = __rdtsc();
  while (wall_ns() - t0 < 50e6) {
  }
  return (__rdtsc() - c0) / (wall_ns() - t0);
}
#endif
