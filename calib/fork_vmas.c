// fork() time against the number of VMAs of the parent, on this machine's kernel.
// Build: cc -O2 -o fork_vmas fork_vmas.c   Run: ./fork_vmas [reps]
// Maps N one-page anonymous VMAs (alternating PROT_READ|PROT_WRITE and PROT_READ so that they do
// not merge), either untouched (no anon_vma: dup_mmap skips copy_page_range) or touched (one page
// each: anon_vma_fork and copy_page_range run), then times fork() returning in the parent and the
// child's exit + waitpid. Prints one line per (N, touched): median over reps.
#define _GNU_SOURCE
#include "calib.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 15;
  int counts[] = {16, 2500, 5000, 10000, 20000};
  long pg = sysconf(_SC_PAGESIZE);
  printf("# n_vmas touched fork_parent_cpu_ns_median fork_parent_wall_ns_median exit_wait_wall_ns_median\n");
  for (int touched = 0; touched <= 1; touched++)
    for (unsigned ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
      int n = counts[ci];
      // one reservation, then every page its own VMA by alternating protections
      char *base = mmap(NULL, (size_t)n * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) { perror("mmap"); return 1; }
      if (touched)
        for (int i = 0; i < n; i++) base[(size_t)i * pg] = 1;
      for (int i = 1; i < n; i += 2) mprotect(base + (size_t)i * pg, pg, PROT_READ);
      double *f = malloc(sizeof(double) * reps), *e = malloc(sizeof(double) * reps);
      double *c = malloc(sizeof(double) * reps);
      for (int r = 0; r < reps; r++) {
        double c0 = cpu_ns();
        double t0 = wall_ns();
        pid_t p = fork();
        if (p == 0) _exit(0);
        double t1 = wall_ns();
        c[r] = cpu_ns() - c0;
        waitpid(p, NULL, 0);
        double t2 = wall_ns();
        f[r] = t1 - t0;
        e[r] = t2 - t1;
      }
      qsort(f, reps, sizeof(double), calib_cmpd);
      qsort(e, reps, sizeof(double), calib_cmpd);
      qsort(c, reps, sizeof(double), calib_cmpd);
      printf("%d %d %.0f %.0f %.0f\n", n, touched, c[reps / 2], f[reps / 2], e[reps / 2]);
      fflush(stdout);
      munmap(base, (size_t)n * pg);
      free(f);
      free(e);
      free(c);
    }
  return 0;
}
