// The fs model: page cache, XFS inodes and extents, iomap writeback (ioends, bios, devices) and
// XFS-style completion, split by the kernel file each step belongs to (see src/fs/fs.ts). Variants
// live in src/kernels/iomap.ts, workloads in src/workloads/iomap.ts (see docs/fs.md).
export * from "./blk.js";
export * from "./buffered-io.js";
export * from "./chunks.js";
export * from "./costs.js";
export * from "./device.js";
export * from "./filemap.js";
export * from "./fs.js";
export * from "./fs-writeback.js";
export * from "./inode.js";
export * from "./ioend.js";
export * from "./oracle.js";
export * from "./page-writeback.js";
export * from "./pagecache.js";
export * from "./stats.js";
export * from "./variant.js";
export * from "./xfs_aops.js";
