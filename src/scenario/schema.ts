// The scenario format: one zod schema, which validates scenario files, types them, and is published
// as JSON Schema (schema/scenario.schema.json) so that editors can complete scenario files.
import { z } from "zod";
import { DEFAULT_TLB_BY_ARCH, TLB_GEOMETRIES } from "../mm/tlb.js";
import { STEAL_PROFILE_NAMES } from "../sim/hypervisor.js";
import { DURATION_RE, parseDurationNs, parseSizeBytes, SIZE_RE } from "./units.js";

export const SCENARIO_FORMAT_VERSION = 1;

const DURATION_HELP = 'a duration such as "25s", "10ms", "500us", or an integer number of ns';
const SIZE_HELP = 'a size such as "20GiB", "4KiB", "1MB", or an integer number of bytes';

export const DURATION_MAX = `a duration of at most ${Number.MAX_SAFE_INTEGER} ns (about 104 days)`;
export const SIZE_MAX = `a size of at most ${Number.MAX_SAFE_INTEGER} bytes (8 PiB)`;

/** A duration in the file; the typed scenario holds integer ns (a value past 2^53 ns is an error). */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(DURATION_RE)])
  .describe(DURATION_HELP)
  .transform((v, ctx) => {
    const ns = parseDurationNs(v);
    if (ns !== undefined) return ns;
    ctx.issues.push({ code: "custom", message: DURATION_MAX, input: v });
    return z.NEVER;
  })
  .describe(DURATION_HELP);

/** A size in the file; the typed scenario holds integer bytes (a value past 2^53 bytes is an error). */
export const Size = z
  .union([z.number().int().nonnegative(), z.string().regex(SIZE_RE)])
  .describe(SIZE_HELP)
  .transform((v, ctx) => {
    const bytes = parseSizeBytes(v);
    if (bytes !== undefined) return bytes;
    ctx.issues.push({ code: "custom", message: SIZE_MAX, input: v });
    return z.NEVER;
  })
  .describe(SIZE_HELP);

const count = (max: number) => z.number().int().min(1).max(max);

export const PREEMPTION_MODELS = ["none", "voluntary", "full", "lazy"] as const;
export type PreemptionModel = (typeof PREEMPTION_MODELS)[number];

export const Machine = z
  .strictObject({
    cpus: count(256).default(2).describe("number of simulated CPUs"),
    preemption: z.enum(PREEMPTION_MODELS).default("voluntary").describe("CONFIG_PREEMPT_* model"),
    hz: z.literal([100, 250, 300, 1000]).default(250).describe("CONFIG_HZ: scheduler tick rate"),
    costProfile: z.string().min(1).default("default").describe("named cost table (see `faultline explain`)"),
    costs: z
      .record(z.string(), z.number().nonnegative())
      .default({})
      .describe(
        "overrides of single cost-table entries, by name (unit in the name, e.g. anonFaultAllocZeroNs)",
      ),
    memory: Size.optional().describe("RAM of the machine"),
    watchdogThresh: z
      .number()
      .int()
      .min(0)
      .max(60)
      .default(10)
      .describe("kernel.watchdog_thresh in seconds (soft lockup after twice this); 0 disables"),
    watchdogStyle: z
      .enum(["repeat", "once"])
      .default("repeat")
      .describe("soft lockups reported every 20 s while stuck (v5.13+), or once per episode (4.x, RHEL 8)"),
    rcuStallTimeout: z
      .number()
      .int()
      .min(3)
      .max(300)
      .default(21)
      .describe("CONFIG_RCU_CPU_STALL_TIMEOUT (s)"),
    hungTaskTimeout: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(120)
      .describe("kernel.hung_task_timeout_secs; 0 disables"),
    nmiWatchdog: z.boolean().default(true).describe("hard-lockup (NMI) detector present"),
    debugAtomicSleep: z.boolean().default(true).describe("CONFIG_DEBUG_ATOMIC_SLEEP: might_sleep() checks"),
    jitter: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.05)
      .describe("relative random jitter applied to model costs"),
    tlb: z
      .enum(Object.keys(TLB_GEOMETRIES) as [string, ...string[]])
      .optional()
      .describe(
        `data TLB geometry of every CPU (mm model); default: the kernel arch's (${Object.entries(
          DEFAULT_TLB_BY_ARCH,
        )
          .map(([a, g]) => `${a} ${g}`)
          .join(
            ", ",
          )}). zen3 = L1 64 fully associative + L2 2048 8-way (this project's machine), skylake = L1 64 4-way + STLB 1536 12-way, neoverse-n1 = L1 48 fully associative + L2 1280 5-way, direct64 = one 64-entry direct-mapped level (the model's earlier TLB)`,
      ),
    steal: z
      .enum(STEAL_PROFILE_NAMES as [string, ...string[]])
      .default("none")
      .describe("steal-time profile of the vCPUs (hypervisor descheduling; src/sim/hypervisor.ts)"),
  })
  .describe("the simulated machine");
export type Machine = z.output<typeof Machine>;

const SwitchValue = z
  .union([z.boolean(), z.number(), z.string()])
  .describe("true or false, a number, or a string");

/** { ioendCap: { kind: "folios" } } -> { "ioendCap.kind": "folios" } (the names `faultline explain` lists). */
function flattenSwitchMap(
  o: Record<string, boolean | number | string | Record<string, boolean | number | string>>,
): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "object") for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    else out[k] = v;
  }
  return out;
}

export const Kernel = z
  .strictObject({
    variant: z.string().min(1).describe("kernel variant (see `faultline variants`)"),
    switches: z
      .record(z.string(), z.union([SwitchValue, z.record(z.string(), SwitchValue)]))
      .default({})
      .transform(flattenSwitchMap)
      .describe(
        "patch switches overriding the variant's defaults (see `faultline explain VARIANT`); dotted names may be nested: ioendCap: { kind: folios }",
      ),
    disableLockSites: z
      .array(z.string().min(1))
      .default([])
      .describe("lock acquisition sites to remove, e.g. dup_mmap:vma_start_write"),
    faultInjection: z
      .strictObject({
        failslab: z
          .array(z.enum(["anon_vma_clone", "vma_iter_clear_gfp"]))
          .optional()
          .describe("allocation sites that fail with -ENOMEM (CONFIG_FAILSLAB with a call-site filter)"),
        delay: z
          .strictObject({
            "lock_vma_under_rcu:vma_start_read": Duration.optional(),
            "find_mergeable_anon_vma:reusable_anon_vma": Duration.optional(),
            "anon_vma_clone:anon_vma_chain_alloc": Duration.optional(),
            "get_vma_policy:mpol_get": Duration.optional(),
            "vma_start_read:vma_refcount_put": Duration.optional(),
            "vma_refcount_put:rcuwait_wake_up": Duration.optional(),
            "__vma_enter_locked:rcuwait_wait_event": Duration.optional(),
          })
          .optional()
          .describe(
            "hold the CPU this long at a named yield point, as a delay-injected reproducer's mdelay() does (timed driver)",
          ),
      })
      .optional()
      .describe("mm fault injection, as kernel bug reproducers use it to hit narrow windows"),
  })
  .describe("the kernel under test");
export type Kernel = z.output<typeof Kernel>;

const common = {
  name: z.string().min(1).optional().describe("label used in reports (default: the type)"),
  enabled: z.boolean().default(true).describe("switch this workload off without deleting it"),
  start: Duration.default(0).describe("virtual time at which the workload starts"),
};

// ---- engine workloads ----
export const KthreadSpin = z
  .strictObject({
    type: z.literal("kthread-spin"),
    ...common,
    cpu: z.number().int().min(0).max(255).default(0).describe("CPU the kthread is bound to"),
    comm: z.string().min(1).max(15).default("spinner").describe("task name as dmesg prints it"),
    duration: Duration.describe("how long the kthread spins"),
    condReschedEvery: Duration.optional().describe("call cond_resched() this often; omit for never"),
  })
  .describe("a kernel thread that spins without sleeping (engine demonstration)");

// ---- per-VMA lock workloads (src/mm; fields as in src/workloads/mm.ts, whose defaults apply when omitted) ----
const think = Duration.optional().describe("user CPU time between memory accesses");

export const FaultLoop = z
  .strictObject({
    type: z.literal("fault-loop"),
    ...common,
    threads: count(1024).default(1).describe("faulting threads (placed round robin on the CPUs)"),
    regionSize: Size.default(4 * 1024 * 1024).describe("size of each thread's mapping"),
    sharedVma: z.boolean().optional().describe("all threads fault on disjoint slices of one VMA"),
    access: z
      .enum(["read", "write", "read-then-write"])
      .optional()
      .describe("default write; read faults map the zero page (and never set anon_vma)"),
    pattern: z.enum(["sequential", "random"]).optional().describe("default sequential"),
    prefault: z
      .boolean()
      .optional()
      .describe("touch every page once and zap before measuring (anon_vma set)"),
    unmapEvery: count(1 << 30)
      .optional()
      .describe("munmap and mmap the region again after this many faults (pft-like)"),
    faultsPerThread: count(1 << 30)
      .optional()
      .describe("faults each thread takes (default: one pass over its region)"),
    freshVmaPerPass: z
      .boolean()
      .optional()
      .describe("a new VMA (no anon_vma) for every pass over the region"),
    think,
  })
  .describe("threads taking page faults on anonymous memory");

export const MmapWriter = z
  .strictObject({
    type: z.literal("mmap-writer"),
    ...common,
    op: z
      .enum(["mmap-munmap", "mprotect", "brk", "mremap", "mbind", "pageout"])
      .optional()
      .describe(
        "address-space change (default mmap-munmap); mremap moves the region away (see dontunmap); mbind gives it a new memory policy; pageout is madvise(MADV_PAGEOUT) (mmap_lock for read)",
      ),
    size: Size.optional().describe("bytes mapped or changed per operation (default 64KiB)"),
    interval: Duration.optional().describe("pause between operations (default 0: back to back)"),
    count: count(100_000_000)
      .optional()
      .describe("operations before the thread exits (default: until the run stops)"),
    touch: z.boolean().optional().describe("touch the mapped pages (munmap then zaps them)"),
    target: z
      .enum(["own", "faulters", "next-to-faulters"])
      .optional()
      .describe(
        "own: an unrelated region (default); faulters: the first fault-loop region; next-to-faulters: the page just above it",
      ),
    dontunmap: z
      .boolean()
      .optional()
      .describe("op mremap: MREMAP_DONTUNMAP (the old VMA stays, emptied, and loses its anon_vma)"),
    file: z
      .boolean()
      .optional()
      .describe("map a shared file instead of anonymous memory (mmap_region's post-insertion edits)"),
  })
  .describe("a thread that keeps taking mmap_lock for write");

export const ForkRace = z
  .strictObject({
    type: z.literal("fork-race"),
    ...common,
    forks: count(1_000_000).default(10).describe("fork()s by the forking thread"),
    writers: count(64)
      .optional()
      .describe("parent threads storing through warm writable TLB entries (default 1)"),
    faulters: count(64)
      .optional()
      .describe("parent threads writing random pages (COW faults during fork; default 1)"),
    pages: count(1 << 24)
      .optional()
      .describe("pages of the shared anonymous region (default 1024)"),
    hotPages: count(1 << 16)
      .optional()
      .describe("hot pages per writer thread (default 2)"),
    hotPlacement: z
      .enum(["per-writer", "first", "last", "random"])
      .optional()
      .describe(
        "where the hot pages are: per-writer slices from the start (default), the region's first or last pages (shared by all writers), or random pages per writer",
      ),
    interval: Duration.optional().describe("pause between forks"),
    childLife: Duration.optional().describe("lifetime of each child before it exits (default 1us)"),
    think,
  })
  .describe("the 6.4.0 fork race: parent stores while dup_mmap copies the page tables");

export const ForkRaceMini = z
  .strictObject({
    type: z.literal("fork-race-mini"),
    ...common,
    rounds: count(1_000_000).optional().describe("store/load rounds of the writer (default 12)"),
    extraVmas: z
      .number()
      .int()
      .min(0)
      .max(4096)
      .optional()
      .describe("one-page VMAs after the shared page (default 4)"),
  })
  .describe(
    "the smallest fork race: one writer with a warm TLB entry, one faulter, one forker (race checker)",
  );

export const StackRace = z
  .strictObject({
    type: z.literal("stack-race"),
    ...common,
    grows: count(1 << 20)
      .optional()
      .describe("pages the stack grows by (default 256)"),
    hotPages: count(1 << 16)
      .optional()
      .describe("pages at the stack top the faulter keeps re-faulting (default 4)"),
  })
  .describe("stack growth beside faults in the stack VMA (6.4.0 grows it without the VMA write lock)");

export const VmaMergeRace = z
  .strictObject({
    type: z.literal("vma-merge-race"),
    ...common,
    rounds: count(100_000).optional().describe("rounds of the merge sequence (default 20)"),
    think: Duration.optional().describe(
      "the writer's user time between the barrier and its store (default 2us)",
    ),
  })
  .describe(
    "d8ab9f7b644a's reproducer: a merge gives a VMA an anon_vma (dup_anon_vma) and fails (fault injection) while a thread writes the VMA",
  );

export const Fork = z
  .strictObject({
    type: z.literal("fork"),
    ...common,
    count: count(1_000_000).default(1).describe("number of fork()s"),
    interval: Duration.optional().describe("pause between forks"),
    vmas: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe("one-page VMAs the forker maps and writes before forking (a process with many VMAs)"),
  })
  .describe("a thread that forks; each child exits at once");

// ---- writeback workloads (src/fs; shapes as in src/workloads/iomap.ts) ----
const cpuField = z.number().int().min(0).max(255).describe("CPU the task runs on");

export const Writer = z
  .strictObject({
    type: z.literal("writer"),
    ...common,
    cpu: cpuField.default(0),
    comm: z.string().min(1).max(15).default("fio").describe("task name"),
    writeSize: Size.default(1024 * 1024).describe("bytes per write(2)"),
    fsyncEvery: Duration.optional().describe("fsync (NFS COMMIT) this often while writing"),
    jobs: z
      .array(
        z.strictObject({
          file: z.string().min(1).describe("a file of fs.files"),
          size: Size.describe("bytes written sequentially"),
          offset: Size.default(0).describe("where writing starts"),
          fsync: z.boolean().default(true).describe("fsync when the job ends (fio end_fsync)"),
        }),
      )
      .min(1)
      .max(1024)
      .describe("files written one after the other"),
  })
  .describe("a task doing buffered write(2)s (fio-like), with periodic and final fsync");

export const Committer = z
  .strictObject({
    type: z.literal("committer"),
    ...common,
    cpu: cpuField.default(0),
    file: z.string().min(1),
    every: Duration.describe("time between fsyncs (NFS COMMIT)"),
  })
  .describe("an nfsd-like task that fsyncs a file periodically while writers run");

export const Nfsd = z
  .strictObject({
    type: z.literal("nfsd"),
    ...common,
    cpus: z.array(cpuField).min(1).max(256).describe("CPUs of the nfsd threads, one thread per entry"),
    file: z.string().min(1).describe("the file the client writes"),
    size: Size.describe("bytes the client writes sequentially"),
    wsize: Size.default(1024 * 1024).describe(
      "bytes per WRITE RPC (the Linux client's largest wsize: 1 MiB)",
    ),
    commitEvery: Size.default(1024 ** 3).describe("the client sends a COMMIT after this many unstable bytes"),
  })
  .describe(
    "an NFS server: nfsd threads take the client's WRITE RPCs (buffered writes) and COMMITs (vfs_fsync_range) from one stream; COMMITs overlap writes and each other",
  );

export const Fsync = z
  .strictObject({
    type: z.literal("fsync"),
    ...common,
    cpu: cpuField.default(0),
    file: z.string().min(1),
    at: Duration,
    comm: z.string().min(1).max(15).default("fsync").describe("task name as dmesg prints it"),
  })
  .describe("one fsync(2) of a file at a given time");

export const Sync = z
  .strictObject({ type: z.literal("sync"), ...common, cpu: cpuField.default(0), at: Duration })
  .describe("one sync(2) at a given time");

export const Probe = z
  .strictObject({
    type: z.literal("probe"),
    ...common,
    cpu: cpuField.default(0),
    period: Duration.default(1e6).describe("sleep between wake-ups"),
  })
  .describe("a latency probe: a fair task that sleeps and records how late it runs");

export const Workload = z.discriminatedUnion("type", [
  KthreadSpin,
  FaultLoop,
  MmapWriter,
  ForkRace,
  ForkRaceMini,
  StackRace,
  VmaMergeRace,
  Fork,
  Writer,
  Committer,
  Nfsd,
  Fsync,
  Sync,
  Probe,
]);
export type Workload = z.output<typeof Workload>;

export const FsFile = z
  .strictObject({
    name: z.string().min(1),
    size: Size.describe("largest size the file reaches"),
    extentSize: Size.default(1024 ** 3).describe("bytes per physical extent XFS allocates"),
    extentSizeMax: Size.optional().describe("extent sizes vary up to this (default: extentSize)"),
    extentGap: Size.default(0).describe("disk gap between extents (0: physically adjacent)"),
    startBlock: z.number().int().min(0).optional().describe("first physical block of the allocation"),
    initial: z
      .enum(["empty", "unwritten", "written"])
      .default("empty")
      .describe("empty: new file (delalloc); unwritten: fallocated; written: existing data (overwrite)"),
    predirty: Size.optional().describe("dirty this many bytes at the start without simulating the writes"),
  })
  .describe("a file on the simulated XFS");

export const Fs = z
  .strictObject({
    device: z
      .string()
      .min(1)
      .default("nvme-pcie3")
      .describe("block device profile (see `faultline explain 5.16`)"),
    bandwidth: Size.optional().describe("override: device bytes per second"),
    latency: Duration.optional().describe("override: per-request service latency"),
    completion: z
      .enum(["hardirq", "softirq", "task"])
      .optional()
      .describe("override: where bio completion runs"),
    irqCpu: z
      .number()
      .int()
      .min(-1)
      .max(255)
      .optional()
      .describe("override: CPU taking completion interrupts (-1: submitter)"),
    maxSectors: Size.optional().describe("override: max_sectors_kb, as bytes (request size)"),
    queueDepth: count(1 << 20)
      .optional()
      .describe("override: requests in flight before submitters wait"),
    kind: z
      .enum(["xfs", "generic"])
      .default("xfs")
      .describe("xfs completion, or gfs2/zonefs-style inline completion"),
    endIoDelay: Duration.default(0).describe("hold xfs_end_io back this long (Dave's msleep hook)"),
    folioSize: Size.default(4096).describe("page-cache folio size (a power of two from 4KiB)"),
    physRun: Size.default(4096).describe("mean physically contiguous run of page-cache memory"),
    memory: Size.default(64 * 1024 ** 3).describe("dirtyable memory"),
    dirtyRatio: z.number().int().min(1).max(100).default(20).describe("vm.dirty_ratio (%)"),
    dirtyBackgroundRatio: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(10)
      .describe("vm.dirty_background_ratio (%)"),
    dirtyExpire: Duration.default(30e9).describe("vm.dirty_expire_centisecs"),
    dirtyWritebackInterval: Duration.default(5e9).describe("vm.dirty_writeback_centisecs"),
    flusherCpu: z.number().int().min(0).max(255).default(0).describe("CPU of the flusher kworker"),
    failEveryNthBio: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("fail every Nth bio with an I/O error (0: never)"),
    delallocToUnwritten: z
      .boolean()
      .optional()
      .describe(
        "delalloc conversion makes unwritten extents (default: the kernel's; every variant in scope is v5.8+, a5949d3faedf: unwritten)",
      ),
    files: z.array(FsFile).min(1).max(1024),
  })
  .describe("block device, filesystem and files (writeback scenarios)");
export type Fs = z.output<typeof Fs>;

export const Stop = z
  .strictObject({
    time: Duration.optional().describe("stop at this virtual time"),
    whenDone: z.boolean().default(true).describe("stop when every workload has finished"),
    onFinding: z.boolean().default(false).describe("stop at the first finding (violation, lockup, BUG)"),
    maxEvents: z.number().int().min(1).max(1e12).default(1e9).describe("safety limit on simulated events"),
  })
  .default({ whenDone: true, onFinding: false, maxEvents: 1e9 })
  .describe("when the run ends");
export type Stop = z.output<typeof Stop>;

export const SEEDS_RE = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/;
export const MAX_SEEDS = 1_000_000;
export const Seeds = z
  .union([
    z.array(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)).min(1).max(MAX_SEEDS),
    z
      .string()
      .regex(SEEDS_RE)
      .refine(
        (v) => {
          const m = SEEDS_RE.exec(v);
          if (!m) return true; // the regex reports it
          const a = Number(m[1]);
          const b = Number(m[2]);
          return Number.isSafeInteger(a) && Number.isSafeInteger(b) && a <= b && b - a < MAX_SEEDS;
        },
        { message: `a range "A..B" with A <= B and at most ${MAX_SEEDS} seeds` },
      ),
  ])
  .describe('a list of seeds or a range "A..B" (inclusive)');

export const Report = z
  .strictObject({
    percentiles: z
      .array(z.number().min(0).max(100))
      .min(1)
      .max(20)
      .default([50, 90, 99, 99.9, 100])
      .describe("latency percentiles to print"),
    holdoffThresholds: z
      .array(Duration)
      .max(10)
      .default([10e6, 4e9, 20e9])
      .describe(
        "count scheduler holdoffs longer than these (Dave's 10 ms, one watchdog sample, the threshold)",
      ),
    timelineBucket: Duration.default(100e6).describe("bucket width of the holdoff-over-time series"),
    plots: z.boolean().default(true).describe("draw SVG plots in --report DIR"),
  })
  .default({
    percentiles: [50, 90, 99, 99.9, 100],
    holdoffThresholds: [10e6, 4e9, 20e9],
    timelineBucket: 100e6,
    plots: true,
  })
  .describe("what the reports contain");
export type Report = z.output<typeof Report>;

/** How `faultline check` explores the scenario. */
export const CheckSettings = z
  .strictObject({
    warmStart: z
      .union([
        z.string().regex(/^[A-Za-z_][\w:.-]*(#[1-9]\d*)?$/),
        z.strictObject({ time: Duration.describe("virtual time of the timed run") }),
      ])
      .optional()
      .describe(
        'run the timed driver up to this model event ("dup_mmap", "dup_mmap#3" for the third) or time, then explore from there',
      ),
  })
  .describe("settings of the race checker (`faultline check`)");
export type CheckSettings = z.output<typeof CheckSettings>;

export const Scenario = z
  .strictObject({
    $schema: z.string().optional().describe("path or URL of scenario.schema.json, for editors"),
    version: z.literal(SCENARIO_FORMAT_VERSION).default(SCENARIO_FORMAT_VERSION).describe("format version"),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/)
      .describe("short name: lower case letters, digits, '.', '_' and '-'"),
    title: z.string().optional().describe("one line shown by `faultline list`"),
    description: z.string().optional().describe("what the scenario shows and where it comes from"),
    machine: Machine.default(Machine.parse({})),
    kernel: Kernel,
    compare: z
      .array(z.string().min(1))
      .min(2)
      .max(16)
      .optional()
      .describe("variants `faultline compare` uses when --kernel is not given"),
    fs: Fs.optional(),
    workloads: z.array(Workload).min(1).max(64).describe("what runs on the machine"),
    stop: Stop,
    check: CheckSettings.optional(),
    seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional().describe("PRNG seed"),
    seeds: Seeds.optional(),
    report: Report,
  })
  .refine((s) => !(s.seed !== undefined && s.seeds !== undefined), {
    message: "give either seed or seeds, not both",
    path: ["seeds"],
  })
  .describe("a faultline scenario");

export type Scenario = z.output<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

/** The seeds a scenario asks for (seed 1 when it names none). */
export function scenarioSeeds(s: Scenario): number[] {
  if (s.seeds === undefined) return [s.seed ?? 1];
  if (Array.isArray(s.seeds)) return s.seeds;
  const m = SEEDS_RE.exec(s.seeds)!;
  return seedRange(Number(m[1]), Number(m[2]));
}

export function seedRange(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

/** JSON Schema (draft 2020-12) of the scenario file, as editors consume it. */
export function scenarioJsonSchema(variants: readonly string[] = []): Record<string, unknown> {
  const js = z.toJSONSchema(Scenario, { io: "input", unrepresentable: "any" }) as unknown as {
    properties: { kernel: { properties: { variant: Record<string, unknown> } } };
  };
  // Editors complete variant names from this list; the loader gives the error for unknown ones.
  if (variants.length > 0) js.properties.kernel.properties.variant.examples = [...variants];
  return { ...js, $id: "https://faultline.dev/schema/scenario.schema.json", title: "faultline scenario" };
}
