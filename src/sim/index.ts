// The engine: virtual time, event queue, PRNG, CPUs and contexts, scheduler, irqs, softirqs,
// workqueues, watchdogs, and the timed and explore drivers.
export * from "./config.js";
export * from "./effects.js";
export * from "./hypervisor.js";
export * from "./machine.js";
export * from "./prng.js";
export * from "./queue.js";
export * from "./stats.js";
export * from "./task.js";
export * from "./trace.js";
export * from "./watchdog.js";
export * from "./workqueue.js";
