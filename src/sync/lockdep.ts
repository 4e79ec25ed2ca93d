// Lock-order checking in the manner of lockdep (kernel/locking/lockdep.c): every acquisition while
// other locks are held adds "held -> new" edges between lock classes; an acquisition that closes a
// cycle is reported as "WARNING: possible circular locking dependency detected" with both chains.
import type { Machine } from "../sim/machine.js";
import { type Ctx, NO_LOCKS_HELD } from "../sim/task.js";

interface Edge {
  to: string;
  /** Where the dependency was first seen: the site holding `from` and the site taking `to`. */
  fromSite: string;
  toSite: string;
  comm: string;
}

/** An entry of a context's held-lock list (Ctx.held). Entries are never written: contexts share them. */
export interface HeldLock {
  readonly cls: string;
  readonly site: string;
}

/** The held-list entry of (cls, site), kept on the lock object (most locks are taken at one site). */
export function heldEntry(lock: { heldEntry: HeldLock | null }, cls: string, site: string): HeldLock {
  const e = lock.heldEntry;
  if (e !== null && e.site === site && e.cls === cls) return e;
  return (lock.heldEntry = { cls, site });
}

export class Lockdep {
  private readonly edges = new Map<string, Edge[]>();
  private readonly reported = new Set<string>();
  enabled = true;
  private lastFrom = "";
  private lastTo = "";
  constructor(private readonly m: Machine) {}

  /** lock_acquire(): check and record dependencies, then push on the context's held stack. */
  acquire(k: Ctx, cls: string, site: string, trylock: boolean, entry: HeldLock | null = null): void {
    const held = k.held;
    if (this.enabled && !trylock) {
      for (let i = 0; i < held.length; i++) {
        const h = held[i]!;
        if (h.cls === cls) continue; // recursion on the same class (e.g. rwsem readers) is not an order
        this.addEdge(k, h.cls, h.site, cls, site);
      }
    }
    const e = entry ?? { cls, site };
    if (held === NO_LOCKS_HELD) k.held = [e];
    else held.push(e);
  }

  /** lock_release() */
  release(k: Ctx, cls: string): void {
    const held = k.held;
    const last = held.length - 1;
    // the innermost lock first (the usual order), without splice's array of removed entries
    if (last >= 0 && held[last]!.cls === cls) {
      held.pop();
      return;
    }
    for (let i = last - 1; i >= 0; i--) {
      if (held[i]!.cls === cls) {
        held.splice(i, 1);
        return;
      }
    }
  }

  private addEdge(k: Ctx, from: string, fromSite: string, to: string, toSite: string): void {
    // the dependency last added or found (edges are never removed): a fault storm takes the same
    // lock under the same lock every time
    if (from === this.lastFrom && to === this.lastTo) return;
    let list = this.edges.get(from);
    if (list === undefined) {
      list = [];
      this.edges.set(from, list);
    }
    this.lastFrom = from;
    this.lastTo = to;
    for (let i = 0; i < list.length; i++) if (list[i]!.to === to) return;
    // would from -> to close a cycle? (is there already a path to -> ... -> from)
    const path = this.findPath(to, from);
    list.push({ to, fromSite, toSite, comm: `${k.task.comm}/${k.task.pid}` });
    if (path !== null) this.reportCycle(k, from, fromSite, to, toSite, path);
  }

  private findPath(src: string, dst: string): Edge[] | null {
    const seen = new Set<string>([src]);
    const stack: { node: string; path: Edge[] }[] = [{ node: src, path: [] }];
    while (stack.length > 0) {
      const { node, path } = stack.pop()!;
      for (const e of this.edges.get(node) ?? []) {
        const p = [...path, e];
        if (e.to === dst) return p;
        if (!seen.has(e.to)) {
          seen.add(e.to);
          stack.push({ node: e.to, path: p });
        }
      }
    }
    return null;
  }

  private reportCycle(
    k: Ctx,
    held: string,
    heldSite: string,
    want: string,
    wantSite: string,
    chain: Edge[],
  ): void {
    const key = [held, want].sort().join("|");
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const m = this.m;
    const t = k.task;
    const lines = [
      "======================================================",
      "WARNING: possible circular locking dependency detected",
      `${m.cfg.kernelRelease} ${m.taint === "" ? "Not tainted" : `Tainted: G ${m.taint}`}`,
      "------------------------------------------------------",
      `${t.comm}/${t.pid} is trying to acquire lock:`,
      ` (${want}){....}, at: ${wantSite}`,
      "",
      "but task is already holding lock:",
      ` (${held}){....}, at: ${heldSite}`,
      "",
      "which lock already depends on the new lock.",
      "",
      "the existing dependency chain (in reverse order) is:",
      "",
      ...chain
        .slice()
        .reverse()
        .flatMap((e, i) => [
          `-> #${chain.length - i} (${e.to}){....}:`,
          `       ${e.toSite} (seen in ${e.comm})`,
          "",
        ]),
      `-> #0 (${want}){....}:`,
      `       ${wantSite}`,
      "",
      "other info that might help us debug this:",
      "",
      " Possible unsafe locking scenario:",
      "",
      "       CPU0                    CPU1",
      "       ----                    ----",
      `  lock(${held});`,
      `                               lock(${want});`,
      `                               lock(${held});`,
      `  lock(${want});`,
      "",
      " *** DEADLOCK ***",
    ];
    if (!m.taint.includes("W")) m.taint += "W";
    for (const l of lines) m.printk(k.cpu.id, l);
    m.report({
      kind: "lock_order_inversion",
      cpus: [k.cpu.id],
      message: `possible circular locking dependency: ${held} -> ${want} -> ... -> ${held}`,
      details: {
        held,
        want,
        held_site: heldSite,
        want_site: wantSite,
        chain: chain.map((e) => e.to).join(" -> "),
      },
    });
  }
}

export function lockdep(m: Machine): Lockdep {
  return m.extension("lockdep", (mm) => new Lockdep(mm));
}
