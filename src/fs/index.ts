// The fs model: page cache, XFS inodes and extents, iomap writeback (ioends, bios, devices) and
// XFS-style completion. Variants live in src/kernels/iomap.ts, workloads in src/workloads/iomap.ts,
// scenario presets and runFsScenario() in src/scenario/iomap.ts (see docs/fs.md).
export * from "./costs.js";
export * from "./device.js";
export * from "./fs.js";
export * from "./inode.js";
export * from "./ioend.js";
export * from "./pagecache.js";
export * from "./stats.js";
export * from "./variant.js";
