// The VMA lookup of a fault on this machine's kernel, by its two paths, and the work behind it.
// Build: cc -O2 -o fault_paths fault_paths.c   Run: ./fault_paths [reps]   (root or
// vm.unprivileged_userfaultfd=1 for the userfaultfd rows)
//
// The kernel has no function timer here (no function_graph tracer, no kprobe events, no hardware
// counters in the guest), so each figure is a difference of two system calls or faults that run the
// same code except for the part measured. Each row: median over reps of the mean of a batch, in
// thread CPU time (the machine is shared).
//
//  mmap_path   get_mempolicy(MPOL_F_ADDR, addr) - get_mempolicy(0): mmap_read_lock, vma_lookup
//              (a maple-tree walk), __get_vma_policy, mmap_read_unlock (mm/mempolicy.c do_get_mempolicy).
//  uffd_fallback  madvise(MADV_DONTNEED) of one empty page in a userfaultfd-armed VMA minus the same in
//              an unarmed VMA: 6.17+ madvise_lock tries lock_vma_under_rcu, and for an armed VMA drops
//              it and takes mmap_read_lock + find_vma instead (mm/madvise.c try_vma_read_lock): the
//              mmap_lock path again, measured a second way.
//  user_fault  a user-mode read fault on an untouched anonymous page (zero page mapped): trap,
//              lock_vma_under_rcu, handle_mm_fault, vma_end_read (arch/x86/mm/fault.c).
//  kernel_fault  the same fault taken in kernel mode (write(2) to a pipe from an untouched page)
//              minus the same write from a mapped page: a kernel-mode fault has no FAULT_FLAG_USER
//              and goes straight to lock_mm_and_find_vma (mmap_read_trylock + find_vma), the same
//              handle_mm_fault, mmap_read_unlock. kernel_fault - user_fault = (mmap path - per-VMA
//              path) + (kernel-mode trap - user-mode trap).
//  Each row at 3 VMAs and after 10,000 more one-page VMAs (a deeper maple tree).
#define _GNU_SOURCE
#include "calib.h"
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long pg;
#define BATCH 20000
#define FAULT_PAGES 16384

static double get_mempolicy_ns(void *addr, int flags) {
  int mode;
  unsigned long mask[16];
  double t0 = cpu_ns();
  for (int i = 0; i < BATCH; i++)
    syscall(SYS_get_mempolicy, &mode, mask, 1024, flags ? addr : NULL, flags);
  return (cpu_ns() - t0) / BATCH;
}

static double dontneed_ns(char *p) {
  double t0 = cpu_ns();
  for (int i = 0; i < BATCH; i++) madvise(p, pg, MADV_DONTNEED);
  return (cpu_ns() - t0) / BATCH;
}

static char *map_pages(long n) {
  char *p = mmap(NULL, n * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  madvise(p, n * pg, MADV_NOHUGEPAGE);
  return p;
}

/* user-mode read faults: each untouched page once (the zero page is mapped) */
static double user_fault_ns(void) {
  char *p = map_pages(FAULT_PAGES);
  volatile char s = 0;
  double t0 = cpu_ns();
  for (long i = 0; i < FAULT_PAGES; i++) s += p[i * pg];
  double t = (cpu_ns() - t0) / FAULT_PAGES;
  munmap(p, FAULT_PAGES * pg);
  (void)s;
  return t;
}

/* write(2) of one byte from each page to a pipe and read it back; touched: pages mapped first */
static double pipe_write_ns(int touched, int *pfd) {
  char *p = map_pages(FAULT_PAGES);
  volatile char s = 0;
  char b;
  if (touched)
    for (long i = 0; i < FAULT_PAGES; i++) s += p[i * pg];
  double t0 = cpu_ns();
  for (long i = 0; i < FAULT_PAGES; i++) {
    if (write(pfd[1], p + i * pg, 1) != 1 || read(pfd[0], &b, 1) != 1) {
      perror("pipe");
      exit(1);
    }
  }
  double t = (cpu_ns() - t0) / FAULT_PAGES;
  munmap(p, FAULT_PAGES * pg);
  (void)s;
  return t;
}

static void run(const char *label, int reps, char *plain, char *armed, int *pfd) {
  double *a = malloc(sizeof(double) * reps), *b = malloc(sizeof(double) * reps);
  double *c = malloc(sizeof(double) * reps), *d = malloc(sizeof(double) * reps);
  double *e = malloc(sizeof(double) * reps), *f = malloc(sizeof(double) * reps);
  double *g = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double f0 = get_mempolicy_ns(plain, 0), f1 = get_mempolicy_ns(plain, MPOL_F_ADDR);
    a[r] = f1 - f0;
    b[r] = f0;
    if (armed) {
      double d0 = dontneed_ns(plain), d1 = dontneed_ns(armed);
      c[r] = d1 - d0;
      d[r] = d0;
    } else c[r] = d[r] = 0;
    e[r] = user_fault_ns();
    double k1 = pipe_write_ns(0, pfd), k0 = pipe_write_ns(1, pfd);
    f[r] = k1 - k0;
    g[r] = k0;
  }
  printf("%s mmap_path %.0f (get_mempolicy(0) %.0f) uffd_fallback %.0f (dontneed_vma_path %.0f) "
         "user_fault %.0f kernel_fault %.0f (pipe_write_mapped %.0f)\n",
         label, median(a, reps), median(b, reps), median(c, reps), median(d, reps), median(e, reps),
         median(f, reps), median(g, reps));
  fflush(stdout);
  free(a), free(b), free(c), free(d), free(e), free(f), free(g);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 11;
  pg = sysconf(_SC_PAGESIZE);
  int pfd[2];
  if (pipe(pfd)) {
    perror("pipe");
    return 1;
  }
  char *plain = map_pages(1);
  char *armed = map_pages(1);
  int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
  if (uffd >= 0) {
    struct uffdio_api api = {.api = UFFD_API};
    struct uffdio_register reg = {.range = {.start = (unsigned long)armed, .len = pg},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
      perror("userfaultfd");
      armed = NULL;
    }
  } else {
    perror("userfaultfd (rows without it)");
    armed = NULL;
  }
  printf("# ns of thread CPU time; median over %d reps of batch means\n", reps);
  run("vmas_few", reps, plain, armed, pfd);
  // 10,000 more one-page VMAs: alternating protections so that they do not merge
  int n = 10000;
  char *base = map_pages(n);
  for (int i = 1; i < n; i += 2) mprotect(base + (long)i * pg, pg, PROT_READ);
  run("vmas_10k", reps, plain, armed, pfd);
  return 0;
}
