// A worker process of the parallel exhaustive search (workerpool, workerType "process"): explores
// units of work (src/check/exhaustive-worker.ts) and reports its own peak RSS with each result.
import workerpool from "workerpool";
import runUnit, { type UnitJob } from "./exhaustive-worker.js";

workerpool.worker({
  runUnit: (job: UnitJob) => ({
    ...runUnit(job),
    pid: process.pid,
    // maxRSS is in KiB on Linux
    peakRssKiB: process.resourceUsage().maxRSS,
    cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
  }),
});
