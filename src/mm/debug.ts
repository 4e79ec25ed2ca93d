// What the kernel's debugging options print when the modelled code breaks a rule: KASAN reports
// (mm/kasan/report.c print_report layout) and lockdep's unlock-imbalance warning
// (kernel/locking/lockdep.c print_unlock_imbalance_bug). Each is printed to dmesg and recorded as a
// finding whose message is the report's headline.
import type { MmThread } from "./thread.js";

/** The kernel release string of the variant, as the reports' "CPU: ... Comm: ..." lines print it. */
function release(th: MmThread): string {
  return th.sim.m.cfg.kernelRelease ?? "faultline";
}

export interface KasanObject {
  /** Slab cache of the object (vm_area_struct, anon_vma, numa_policy, mm_struct). */
  cache: string;
  /** Size of the cache's objects in bytes when known ("which belongs to the cache X of size N"). */
  size?: number;
  /** A name for the object in the model (vma#3, anon_vma 7). */
  name: string;
  /** Who freed it, and the kernel function that did. */
  freedBy: string;
  freedIn: string;
}

/**
 * BUG: KASAN: slab-use-after-free in FN: an access of `bytes` bytes to a freed slab object
 * (mm/kasan/report.c, 6.4+ wording; before 6.4 "use-after-free"). Returns nothing: the access
 * itself goes on as the buggy kernel's would.
 */
export function kasan_report(
  th: MmThread,
  fn: string,
  write: boolean,
  bytes: number,
  obj: KasanObject,
  vpn: number,
): void {
  const sim = th.sim;
  const m = sim.m;
  const t = th.k.task;
  const head = `BUG: KASAN: slab-use-after-free in ${fn}`;
  const lines = [
    "==================================================================",
    head,
    `${write ? "Write" : "Read"} of size ${bytes} at addr (${obj.name}) by task ${t.comm}/${t.pid}`,
    "",
    `CPU: ${th.cpu} PID: ${t.pid} Comm: ${t.comm} Not tainted ${release(th)}`,
    "",
    `Freed by task ${obj.freedBy}:`,
    ` ${obj.freedIn}`,
    "",
    `The buggy address belongs to the object (${obj.name})`,
    ` which belongs to the cache ${obj.cache}${obj.size !== undefined ? ` of size ${obj.size}` : ""}`,
    "==================================================================",
  ];
  for (const l of lines) m.printk(th.cpu, l);
  sim.finding(
    "use_after_free",
    [th.cpu],
    [vpn],
    `${head}: ${obj.name} (${obj.cache}) freed in ${obj.freedIn}`,
    {
      cache: obj.cache,
      object: obj.name,
      fn,
      access: write ? "write" : "read",
    },
  );
}

/**
 * WARNING: bad unlock balance detected! (lockdep): a task releases a lock it does not hold
 * (kernel/locking/lockdep.c print_unlock_imbalance_bug).
 */
export function bad_unlock_balance(th: MmThread, lock: string, at: string, held: readonly string[]): void {
  const sim = th.sim;
  const m = sim.m;
  const t = th.k.task;
  const head = "WARNING: bad unlock balance detected!";
  const lines = [
    "=====================================",
    head,
    `${release(th)} Not tainted`,
    "-------------------------------------",
    `${t.comm}/${t.pid} is trying to release lock (${lock}) at:`,
    `[<0>] ${at}`,
    "but there are no more locks to release!",
    "",
    "other info that might help us debug this:",
    held.length === 0
      ? `no locks held by ${t.comm}/${t.pid}.`
      : `${held.length} lock held by ${t.comm}/${t.pid}:`,
    ...held.map((h, i) => ` #${i}: (${h})`),
  ];
  for (const l of lines) m.printk(th.cpu, l);
  sim.finding(
    "bad_unlock_balance",
    [th.cpu],
    [],
    `${head} ${t.comm}/${t.pid} is trying to release lock (${lock}) at: ${at}`,
    {
      lock,
      at,
    },
  );
}
