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
  let readStep = -1;
  let writeStep = -1;
  for (const f of fields) {
    if (Object.getOwnPropertyDescriptor(obj, f)?.get !== undefined) continue;
    let value: unknown = obj[f];
    Object.defineProperty(obj, f, {
      configurable: true,
      enumerable: true,
      get() {
        const fp = host.footprint;
        if (fp !== null && readStep !== host.steps && writeStep !== host.steps) {
          readStep = host.steps;
          fp.touch(key, false);
        }
        return value;
      },
      set(v: unknown) {
        const fp = host.footprint;
        if (fp !== null && writeStep !== host.steps) {
          writeStep = host.steps;
          fp.touch(key, true);
        }
        value = v;
      },
    });
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
