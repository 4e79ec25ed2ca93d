// Tracked fields for the explore driver's partial-order reduction (issue 13: footprints that cannot be
// forgotten). trackFields turns named data fields of one object into accessors that record every read
// and write under the object's footprint key in the running step's footprint (Machine.footprint), so
// the model's steps read and write shared state as plain fields and no step can forget to say so.
// Only explore-driver objects are tracked (the model installs the accessors when it builds or enters
// the explore driver): objects of a timed run keep plain fields and pay nothing.
import type { FootprintSink } from "./machine.js";

/** Where a tracked object's accesses go: the machine's current step footprint (null: none recorded). */
export interface FootprintHost {
  footprint: FootprintSink | null;
  /** Steps taken so far (Machine.steps): a tracked object records its key once per step and mode. */
  readonly steps: number;
}

/** The fields of one trackFields call: they share the object's key and its last recorded steps. */
interface TrackGroup {
  readonly key: string;
  readonly host: FootprintHost;
  readStep: number;
  writeStep: number;
}

/** A tracked field's value and its group. */
interface TrackSlot {
  readonly g: TrackGroup;
  value: unknown;
}

/** Where a tracked object keeps its fields' slots (a property every tracked object gets first). */
const SLOTS: unique symbol = Symbol("tracked slots");

type Tracked = { [SLOTS]: Record<string, TrackSlot> };

/**
 * The accessor pair of field `f`, one for every object that tracks a field of that name (memoised
 * pure functions): V8 keeps accessors in the object's hidden class, so functions made per object
 * would give every tracked object a hidden class of its own, and those (old-generation) classes,
 * reaching the object's machine through the functions' closures, kept every explore-driver build
 * alive until the next full collection (all of it copied by every scavenge on the way).
 */
const accessorsByField = new Map<string, PropertyDescriptor>();

function fieldAccessors(f: string): PropertyDescriptor {
  let d = accessorsByField.get(f);
  if (d === undefined) {
    d = {
      configurable: true,
      enumerable: true,
      get(this: Tracked) {
        const slot = this[SLOTS][f]!;
        const g = slot.g;
        const fp = g.host.footprint;
        if (fp !== null && g.readStep !== g.host.steps && g.writeStep !== g.host.steps) {
          g.readStep = g.host.steps;
          fp.touch(g.key, false);
        }
        return slot.value;
      },
      set(this: Tracked, v: unknown) {
        const slot = this[SLOTS][f]!;
        const g = slot.g;
        const fp = g.host.footprint;
        if (fp !== null && g.writeStep !== g.host.steps) {
          g.writeStep = g.host.steps;
          fp.touch(g.key, true);
        }
        slot.value = v;
      },
    };
    accessorsByField.set(f, d);
  }
  return d;
}

/**
 * Make `fields` of `obj` accessors that record `key` in `host`'s current footprint: a read as a read,
 * a store as a write. Values are kept; a field that is already an accessor is left as it is.
 */
export function trackFields<T extends object>(
  obj: T,
  fields: readonly (keyof T & string)[],
  key: string,
  host: FootprintHost,
): void {
  // the step of the last recorded read and write: the fields of an object share its key, and a step
  // reads them many times (a tree walk, a fault's checks); one record of each kind per step is enough
  const g: TrackGroup = { key, host, readStep: -1, writeStep: -1 };
  const t = obj as T & Partial<Tracked>;
  let slots = t[SLOTS];
  if (slots === undefined) {
    slots = Object.create(null) as Record<string, TrackSlot>;
    Object.defineProperty(t, SLOTS, { value: slots });
  }
  for (const f of fields) {
    if (Object.getOwnPropertyDescriptor(obj, f)?.get !== undefined) continue;
    slots[f] = { g, value: obj[f] };
    Object.defineProperty(obj, f, fieldAccessors(f));
  }
}

/** Is field `f` of `obj` a tracked accessor (trackFields)? */
export function isTracked(obj: object, f: string): boolean {
  return Object.getOwnPropertyDescriptor(obj, f)?.get !== undefined;
}

/**
 * An explore-driver view of a table of objects indexed by id (anon_vma reference counts, mempolicies):
 * reading or storing element i records `${prefix}${i}` as a read or a write. Other properties
 * (length, push) are not recorded: a new element is the allocating step's own until an id is published.
 */
export function trackedTable<T>(arr: T[], prefix: string, host: FootprintHost): T[] {
  const isIndex = (p: string | symbol): p is string => {
    if (typeof p !== "string") return false;
    const c = p.charCodeAt(0);
    return c >= 48 && c <= 57;
  };
  return new Proxy(arr, {
    get(target, p, recv) {
      const fp = host.footprint;
      if (fp !== null && isIndex(p)) fp.touch(prefix + p, false);
      return Reflect.get(target, p, recv);
    },
    set(target, p, v, recv) {
      const fp = host.footprint;
      if (fp !== null && isIndex(p)) fp.touch(prefix + p, true);
      return Reflect.set(target, p, v, recv);
    },
  });
}

/**
 * An explore-driver view of a plain array whose every element read (and length) records `key` as a
 * read and every store (push, splice, length = 0, a[i] = x) as a write (vma->anon_vma_chain).
 */
export function trackedArray<T>(arr: T[], key: string, host: FootprintHost): T[] {
  return new Proxy(arr, {
    get(target, p, recv) {
      const fp = host.footprint;
      if (fp !== null) fp.touch(key, false);
      return Reflect.get(target, p, recv);
    },
    set(target, p, v, recv) {
      const fp = host.footprint;
      if (fp !== null) fp.touch(key, true);
      return Reflect.set(target, p, v, recv);
    },
  });
}
