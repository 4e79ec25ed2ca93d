// The batched, locked work behind a fault's new page on this machine's kernel: rmqueue_bulk per page
// under zone->lock, lru_add per folio under the lruvec's lru_lock, free_pcppages_bulk per page under
// zone->lock; and the batch sizes the kernel actually uses.
// Build: cc -O2 -o page_batches page_batches.c   Run: sh page_batches.sh (root: tracefs)
//
// No function timer here (no function_graph, no kprobes), but the kmem and pagemap tracepoints fire
// once per page INSIDE each locked loop (mm/page_alloc.c, mm/swap.c, 6.18):
//   kmem:mm_page_alloc_zone_locked  __rmqueue_smallest, per page rmqueue_bulk moves to a pcp list
//   pagemap:mm_lru_insertion        lru_add, per folio folio_batch_move_lru puts on the LRU
//   kmem:mm_page_pcpu_drain         free_pcppages_bulk, per page given back to the buddy lists
// so in a ring buffer with TSC timestamps the interval between two consecutive events of one batch
// is one iteration of the loop: the kernel's work per page plus the tracepoint's own cost. The
// control: the same events are enabled in k = 1..4 tracefs instances at once; each hit then runs
// one probe (a ring-buffer write) per instance, so the interval is work + k x (probe), and the
// least-squares line over k, taken at k = 0, is the work without tracing (page_batches.sh fits it).
// The probe's own cost is measured directly too: task:task_prctl_unknown (a plain TRACE_EVENT with
// a 48-byte record, between mm_lru_insertion's 40 and the kmem events' 24-32) fires once per
// prctl() with an unknown option; the CPU time per call with the event in k instances minus with
// none is k probes. work = interval(k) - probe(k) should not depend on k; the script prints it for
// each k. Last, the CPU time of the whole workload with k instances against none, per event.
//
// This program pins itself to CPU 0 and, per rep and per k (order rotated from rep to rep), enables
// the three events in the first k instances, writes a marker to the first instance, faults in PAGES
// fresh anonymous 4 KiB pages (one write each: anonymous folio, pcp list, lru_add batch) and unmaps
// them (zap: the folios freed through the pcp lists, free_pcppages_bulk above pcp->high), times
// prctl() calls, and prints "rep R k K fault_ns F unmap_ns U prctl_ns P" (thread CPU time).
#define _GNU_SOURCE
#include "calib.h"
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *events[] = {"kmem/mm_page_alloc_zone_locked", "pagemap/mm_lru_insertion",
                               "kmem/mm_page_pcpu_drain", "task/task_prctl_unknown"};
#define NEVENTS (sizeof events / sizeof events[0])

static void write_file(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
    perror(path);
    exit(1);
  }
  close(fd);
}

static void enable(char **inst, int k, int on) {
  char path[4096];
  for (int i = 0; i < k; i++)
    for (unsigned e = 0; e < NEVENTS; e++) {
      snprintf(path, sizeof path, "%s/events/%s/enable", inst[i], events[e]);
      write_file(path, on ? "1" : "0");
    }
}

/* ns of thread CPU time per prctl() with an unknown option (task:task_prctl_unknown fires once in
   each), median over batches of the batch mean */
static double prctl_ns(void) {
  enum { BATCHES = 21, CALLS = 5000 };
  double v[BATCHES];
  for (int b = 0; b < BATCHES; b++) {
    double t0 = cpu_ns();
    for (int i = 0; i < CALLS; i++) prctl(0x7f5a, 1, 2, 3, 4);
    v[b] = (cpu_ns() - t0) / CALLS;
  }
  return median(v, BATCHES);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: page_batches PAGES REPS INSTANCE_DIR...\n");
    return 2;
  }
  long pages = atol(argv[1]);
  int reps = atoi(argv[2]);
  char **inst = argv + 3;
  int ninst = argc - 3;
  long pg = sysconf(_SC_PAGESIZE);
  pin(0);
  printf("tsc_per_ns %.6f pid %d\n", tsc_rate(), getpid());
  char marker_path[4096], marker[128], path[4096];
  snprintf(marker_path, sizeof marker_path, "%s/trace_marker", inst[0]);
  for (int r = 0; r < reps; r++)
    for (int j = 0; j <= ninst; j++) {
      int k = (j + r) % (ninst + 1);
      for (int i = 1; i < ninst; i++) {  // the instances not read during the run start empty
        snprintf(path, sizeof path, "%s/trace", inst[i]);
        int fd = open(path, O_WRONLY | O_TRUNC);
        if (fd < 0) {
          perror(path);
          return 1;
        }
        close(fd);
      }
      enable(inst, k, 1);
      snprintf(marker, sizeof marker, "fl_rep %d k %d", r, k);
      write_file(marker_path, marker);
      double t0 = cpu_ns();
      char *p = mmap(NULL, pages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
      }
      madvise(p, pages * pg, MADV_NOHUGEPAGE);  // order-0 folios only
      for (long i = 0; i < pages; i++) p[i * pg] = 1;
      double t1 = cpu_ns();
      munmap(p, pages * pg);
      double t2 = cpu_ns();
      double probe = prctl_ns();
      enable(inst, k, 0);
      printf("rep %d k %d fault_ns %.0f unmap_ns %.0f prctl_ns %.1f\n", r, k, t1 - t0, t2 - t1, probe);
      fflush(stdout);
    }
  return 0;
}
