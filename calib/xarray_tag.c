// The kernel's tag_pages_for_writeback per page (mm/page-writeback.c), timed with tracepoints.
// Build: cc -O2 -o xarray_tag xarray_tag.c   Run: sh xarray_tag.sh [dir on ext4] (root: perf record)
//
// There is no function tracer on this guest (no function_graph, no kprobe events) but tracepoints
// work. An fsync of a file with N dirty 4 KiB folios on ext4 runs ext4_writepages ->
// ext4_do_writepages, which fires ext4:ext4_writepages, then (WB_SYNC_ALL) calls
// tag_pages_for_writeback over the whole range: N entries moved from PAGECACHE_TAG_DIRTY to
// PAGECACHE_TAG_TOWRITE under xa_lock_irq, the lock dropped every XA_CHECK_SCHED = 4096 entries;
// then mpage_prepare_extent_to_map stops at the first delalloc folio (no block mapping in its first
// pass), a journal handle is started and ext4:ext4_da_write_pages fires. The interval between the
// two events is the tagging plus a constant; its slope against N is the tagging per page.
// Control: sync_file_range(SYNC_FILE_RANGE_WRITE) writes back with WB_SYNC_NONE, which does not
// tag: the same interval must then not grow with N.
//
// This program only makes the files and the calls, one file per (N, call, rep), and prints
// "file <inode> <N> <fsync|sfr>" lines; xarray_tag.sh records the events and fits the slopes.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: xarray_tag DIR [reps]\n");
    return 2;
  }
  const char *dir = argv[1];
  int reps = argc > 2 ? atoi(argv[2]) : 9;
  static char page[4096];
  memset(page, 0x5a, sizeof page);
  const long sizes[] = {2048, 4096, 8192, 16384};
  char path[4096];
  for (int r = 0; r < reps; r++)
    for (unsigned si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int call = 0; call < 2; call++) {
        long n = sizes[si];
        snprintf(path, sizeof path, "%s/xarray_tag.%d.%ld.%d", dir, r, n, call);
        int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
        if (fd < 0) {
          perror(path);
          return 1;
        }
        // 4 KiB writes: one order-0 folio per page
        for (long i = 0; i < n; i++)
          if (write(fd, page, sizeof page) != (ssize_t)sizeof page) {
            perror("write");
            return 1;
          }
        struct stat st;
        fstat(fd, &st);
        if (call == 0)
          fsync(fd);
        else
          sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // its one ext4_writepages, sync_mode 0
        printf("file %lu %ld %s\n", (unsigned long)st.st_ino, n, call == 0 ? "fsync" : "sfr");
        fflush(stdout);
        close(fd);
        unlink(path);
      }
  return 0;
}
