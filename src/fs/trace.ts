// Counter tracks of the writeback model for traces (emitted only when the run is traced).
import type { FsModel } from "./fs.js";

/** The page cache's dirty and writeback pages (NR_FILE_DIRTY, NR_WRITEBACK in /proc/vmstat). */
export function pageCounters(fs: FsModel): void {
  const m = fs.m;
  if (m.trace === null) return;
  m.counter("nr_dirty", -1, fs.nrDirty());
  m.counter("nr_writeback", -1, fs.nrWriteback());
}
