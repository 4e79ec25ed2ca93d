// The scenario format: one zod schema, which validates scenario files, types them, and is published
// as JSON Schema (schema/scenario.schema.json) so that editors can complete scenario files.
import { z } from "zod";
import { DURATION_RE, parseDurationNs, parseSizeBytes, SIZE_RE } from "./units.js";

export const SCENARIO_FORMAT_VERSION = 1;

const DURATION_HELP = 'a duration such as "25s", "10ms", "500us", or an integer number of ns';
const SIZE_HELP = 'a size such as "20GiB", "4KiB", "1MB", or an integer number of bytes';

/** A duration in the file; the typed scenario holds integer ns. */
export const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(DURATION_RE)])
  .describe(DURATION_HELP)
  .transform((v) => parseDurationNs(v) ?? 0)
  .describe(DURATION_HELP);

/** A size in the file; the typed scenario holds integer bytes. */
export const Size = z
  .union([z.number().int().nonnegative(), z.string().regex(SIZE_RE)])
  .describe(SIZE_HELP)
  .transform((v) => parseSizeBytes(v) ?? 0)
  .describe(SIZE_HELP);

const count = (max: number) => z.number().int().min(1).max(max);
const fraction = z.number().min(0).max(1);

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
      .describe("overrides of single cost-table entries, by name (unit in the name, e.g. faultAnonNs)"),
    memory: Size.optional().describe("RAM of the machine"),
    watchdogThresh: z
      .number()
      .int()
      .min(0)
      .max(60)
      .default(10)
      .describe("kernel.watchdog_thresh in seconds (soft lockup after twice this); 0 disables"),
    debugAtomicSleep: z.boolean().default(false).describe("CONFIG_DEBUG_ATOMIC_SLEEP: might_sleep() checks"),
  })
  .describe("the simulated machine");
export type Machine = z.output<typeof Machine>;

export const Kernel = z
  .strictObject({
    variant: z.string().min(1).describe("kernel variant (see `faultline variants`)"),
    switches: z
      .record(z.string(), z.union([z.boolean(), z.number(), z.string()]))
      .default({})
      .describe("patch switches overriding the variant's defaults (see `faultline explain VARIANT`)"),
    disableLockSites: z
      .array(z.string().min(1))
      .default([])
      .describe("lock acquisition sites to remove, e.g. dup_mmap:vma_start_write"),
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

// ---- per-VMA lock workloads (src/mm) ----
export const FaultLoop = z
  .strictObject({
    type: z.literal("fault-loop"),
    ...common,
    threads: count(1024).default(1).describe("faulting threads"),
    regionSize: Size.default(64 * 1024 * 1024).describe("size of each thread's mapping"),
    sharedVma: z.boolean().default(false).describe("all threads fault on one VMA instead of one each"),
    access: z.enum(["read", "write"]).default("write").describe("read faults map the zero page"),
    pattern: z.enum(["sequential", "random"]).default("sequential"),
    prefault: z.boolean().default(false).describe("touch once before measuring (anon_vma already set)"),
    unmapEvery: count(1 << 30)
      .optional()
      .describe("munmap and remap after this many faults (pft-like)"),
  })
  .describe("threads taking page faults on anonymous memory");

export const MmapWriter = z
  .strictObject({
    type: z.literal("mmap-writer"),
    ...common,
    op: z.enum(["mmap-munmap", "mprotect", "brk"]).default("mmap-munmap").describe("address-space change"),
    size: Size.default(64 * 1024).describe("size of each mapping changed"),
    interval: Duration.default(0).describe("pause between operations (0: back to back)"),
  })
  .describe("a thread that keeps taking mmap_lock for write on unrelated regions");

export const ForkRace = z
  .strictObject({
    type: z.literal("fork-race"),
    ...common,
    forks: count(1_000_000).default(1).describe("fork()s by the forking thread"),
    writers: count(64).default(1).describe("parent threads storing through a cached writable TLB entry"),
    faulters: count(64).default(1).describe("parent threads taking write faults during the fork"),
    pages: count(1 << 24)
      .default(16)
      .describe("pages of the shared anonymous region"),
  })
  .describe("the 6.4.0 fork race: parent stores during dup_mmap copying the page tables");

export const Fork = z
  .strictObject({
    type: z.literal("fork"),
    ...common,
    count: count(1_000_000).default(1).describe("number of fork()s"),
    interval: Duration.default(0).describe("pause between forks"),
  })
  .describe("a thread that forks (and the child exits)");

// ---- writeback workloads (src/fs) ----
export const BufferedWriter = z
  .strictObject({
    type: z.literal("buffered-writer"),
    ...common,
    jobs: count(256).default(1).describe("writer tasks (fio numjobs)"),
    fileSize: Size.describe("bytes written per job"),
    writeSize: Size.default(1024 * 1024).describe("size of each write(2)"),
    overwrite: z
      .boolean()
      .default(false)
      .describe("overwrite a fully written file (no unwritten conversion)"),
    fsync: z.enum(["none", "end", "periodic"]).default("end").describe("fsync at the end or periodically"),
    fsyncEvery: Size.optional().describe("with fsync: periodic, bytes between fsyncs"),
  })
  .describe("tasks doing buffered write(2)s to files on XFS, then fsync");

export const Workload = z.discriminatedUnion("type", [
  KthreadSpin,
  FaultLoop,
  MmapWriter,
  ForkRace,
  Fork,
  BufferedWriter,
]);
export type Workload = z.output<typeof Workload>;
export const WORKLOAD_TYPES = Workload.options.map((o) => o.shape.type.value);

export const Storage = z
  .strictObject({
    device: z
      .enum(["nvme", "raid0", "cloud", "pmem", "virtio"])
      .default("nvme")
      .describe("block device kind"),
    disks: count(64).default(1).describe("disks striped together (raid0)"),
    bandwidth: Size.optional().describe("bytes per second of the whole device"),
    latency: Duration.optional().describe("per-request service latency"),
    completion: z
      .enum(["hardirq", "softirq", "inline"])
      .optional()
      .describe("where bio completion runs (default: per device kind)"),
    extentSize: Size.optional().describe("size of the physically contiguous extents XFS allocates"),
    extentsAdjacent: z.boolean().default(true).describe("false: extents are physically discontiguous"),
    physContiguity: fraction.default(0.9).describe("probability that the next folio is physically adjacent"),
    folioSize: Size.default(4096).describe("page-cache folio size"),
    dirtyRatio: z.number().int().min(1).max(100).default(20).describe("vm.dirty_ratio (%)"),
    dirtyBackgroundRatio: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(10)
      .describe("vm.dirty_background_ratio (%)"),
    completionDelay: Duration.default(0).describe("hold completions back this long (Dave's msleep hook)"),
  })
  .describe("block device and filesystem layout (writeback scenarios)");
export type Storage = z.output<typeof Storage>;

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
export const Seeds = z
  .union([z.array(z.number().int().nonnegative()).min(1).max(1_000_000), z.string().regex(SEEDS_RE)])
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
    storage: Storage.optional(),
    workloads: z.array(Workload).min(1).max(64).describe("what runs on the machine"),
    stop: Stop,
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
export function scenarioJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(Scenario, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...js, $id: "https://faultline.dev/schema/scenario.schema.json", title: "faultline scenario" };
}
