// The JSON result of one run: a documented, versioned format (docs/result-schema.md,
// schema/result.schema.json). The same scenario and seed give the same bytes: `resultJson` writes keys
// in the schema's order (records sorted by key) and refuses non-finite numbers.
import { z } from "zod";

export const RESULT_FORMAT = "faultline-result";
export const RESULT_VERSION = 1;

const int = z.number().int();
const ns = z.number().int().nonnegative();
const counters = z.record(z.string(), z.number()).describe("name -> value, sorted by name");

export const Percentile = z.strictObject({ p: z.number().min(0).max(100), valueNs: ns });

export const Latency = z
  .strictObject({
    name: z.string().describe("what was timed, e.g. fault, fsync, pg_writeback_clear"),
    count: int,
    minNs: ns,
    meanNs: ns,
    maxNs: ns,
    percentiles: z.array(Percentile),
    cdf: z
      .array(z.tuple([ns, z.number().min(0).max(1)]))
      .describe("[value ns, fraction of samples <= value] on a fixed percentile ladder, for plots"),
  })
  .describe("a latency distribution, from an HDR histogram (3 significant digits)");
export type Latency = z.output<typeof Latency>;

export const Throughput = z.strictObject({
  name: z.string().describe("e.g. faults, writeback"),
  value: z.number(),
  unit: z.string().describe("e.g. ops/s, MiB/s"),
});
export type Throughput = z.output<typeof Throughput>;

export const HoldoffCpu = z
  .strictObject({
    cpu: int,
    context: z.enum(["task", "softirq", "hardirq"]),
    count: int,
    maxNs: ns,
    maxAtNs: ns.describe("virtual time at which the longest holdoff ended"),
    p50Ns: ns,
    p99Ns: ns,
    over: z.array(z.strictObject({ thresholdNs: ns, count: int })),
  })
  .describe(
    "scheduler holdoff: time a CPU went without a context-switch opportunity while need_resched was set",
  );
export type HoldoffCpu = z.output<typeof HoldoffCpu>;

export const LockStat = z
  .strictObject({
    name: z.string().describe("lock class, e.g. &mm->mmap_lock, &vma->vm_lock"),
    conBounces: int,
    contentions: int,
    waitTimeMinNs: ns,
    waitTimeMaxNs: ns,
    waitTimeTotalNs: ns,
    acqBounces: int,
    acquisitions: int,
    holdTimeMinNs: ns,
    holdTimeMaxNs: ns,
    holdTimeTotalNs: ns,
    sites: z
      .array(z.strictObject({ site: z.string(), contentions: int }))
      .describe("contention points, most first"),
  })
  .describe("one row of the /proc/lock_stat-style table");
export type LockStat = z.output<typeof LockStat>;

export const DmesgLine = z.strictObject({
  tNs: ns,
  cpu: int,
  line: z.string().describe("the message as dmesg prints it, without the [seconds.micros] stamp"),
});
export type DmesgLine = z.output<typeof DmesgLine>;

export const Finding = z
  .strictObject({
    kind: z.string().describe("check that fired, e.g. soft_lockup, might_sleep, lost_update"),
    message: z.string(),
    tNs: ns,
    cpus: z.array(int),
    details: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).describe("sorted by key"),
  })
  .describe("something the kernel under test got wrong; any finding makes `faultline run` exit 1");
export type Finding = z.output<typeof Finding>;

export const RunResult = z
  .strictObject({
    format: z.literal(RESULT_FORMAT),
    version: z.literal(RESULT_VERSION),
    scenario: z.strictObject({
      name: z.string(),
      title: z.string(),
      seed: int,
      sets: z.array(z.string()).describe("overrides applied (PATH=VALUE), in order"),
    }),
    machine: z.strictObject({
      cpus: int,
      preemption: z.enum(["none", "voluntary", "full", "lazy"]),
      hz: int,
      costProfile: z.string(),
      costOverrides: counters,
    }),
    kernel: z.strictObject({
      variant: z.string(),
      model: z.enum(["mm", "fs", "sim"]).describe("sim: the engine alone; mm: per-VMA locks; fs: writeback"),
      summary: z.string(),
      switches: z
        .record(z.string(), z.union([z.boolean(), z.number(), z.string()]))
        .describe("effective switches"),
      disabledLockSites: z.array(z.string()),
    }),
    run: z.strictObject({
      stopReason: z.enum(["time", "done", "finding", "max-events"]),
      simTimeNs: ns,
      events: int.describe("engine events processed"),
    }),
    throughput: z.array(Throughput),
    latency: z.array(Latency),
    holdoff: z.strictObject({
      perCpu: z.array(HoldoffCpu),
      timeline: z
        .strictObject({
          bucketNs: ns,
          maxNs: z.array(z.array(ns)).describe("[cpu][bucket]: longest holdoff ending in the bucket"),
        })
        .describe("holdoff over time"),
    }),
    vmstat: counters.describe("counters under their /proc/vmstat names"),
    lockStat: z.array(LockStat),
    dmesg: z.array(DmesgLine),
    findings: z.array(Finding),
    counters: counters.describe("model counters that have no /proc/vmstat name"),
  })
  .describe("faultline result of one run (one scenario, one variant, one seed)");
export type RunResult = z.output<typeof RunResult>;

/** JSON Schema of the result file. */
export function resultJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(RunResult, { io: "output", unrepresentable: "any" }) as Record<string, unknown>;
  return { ...js, $id: "https://faultline.dev/schema/result.schema.json", title: "faultline result" };
}

/** Serialises a result with keys in schema order (records sorted), 2-space indent, final newline. */
export function resultJson(r: RunResult): string {
  return `${JSON.stringify(canonical(r, RunResult), null, 2)}\n`;
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
};

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Copies `v` with object keys ordered as in `schema`; records get sorted keys. */
export function canonical(v: unknown, schema: z.ZodType | undefined): unknown {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`result holds a non-finite number: ${v}`);
    return Object.is(v, -0) ? 0 : v;
  }
  if (v === null || typeof v !== "object") return v;
  let d = schema ? defOf(schema) : undefined;
  while (d && (d.type === "optional" || d.type === "default") && d.innerType) d = defOf(d.innerType);
  if (Array.isArray(v)) {
    const el = d?.type === "array" ? d.element : undefined;
    return v.map((x, i) => canonical(x, d?.type === "tuple" ? d.items?.[i] : el));
  }
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (d?.type === "object" && d.shape) {
    for (const k of Object.keys(d.shape)) if (o[k] !== undefined) out[k] = canonical(o[k], d.shape[k]);
    for (const k of Object.keys(o).sort())
      if (!(k in out) && o[k] !== undefined) out[k] = canonical(o[k], undefined);
    return out;
  }
  const inner = d?.type === "record" ? d.valueType : undefined;
  for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = canonical(o[k], inner);
  return out;
}
