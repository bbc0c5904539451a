// Upcasters: old payload versions become the current one at read time, before validation.
//
// The log is append-only, so an event written years ago under an older schema is still read
// today. Rather than teach every consumer every version, each consumer reads through `upcast()`,
// which applies the registered steps `v → v+1` until no step is left, and validation then only
// knows the current version of each type (see validate.ts).
//
// How to add a version (say `NodeLabelsSet` goes from v1 to v2):
//   1. Describe the old shape here as `NodeLabelsSetV1` (a documented interface, never deleted).
//   2. Change `NodeLabelsSet` in types.ts to the new shape with `v: 2`.
//   3. Register a step `1 → 2` in UPCASTERS below: a pure function from the v1 data to the v2 data
//      that fills new fields with a documented default. It receives untrusted data (it runs before
//      validation), so it must not throw: when the data is not the old shape, return it as it is
//      and let validation name the problem.
//   4. Update the validator in validate.ts (its `v` is typed from types.ts, so tsc points at it),
//      the sample in test/support/event-samples.ts, and add a test reading an old payload.
// Writers always write the current version; upcasters never run on the write path.

import type { Labels } from '../model/types.js';

/** A payload that decoded into the `{ type, v, data }` shape but is not validated yet. */
export interface RawEvent {
  readonly type: string;
  readonly v: number;
  readonly data: unknown;
}

/** One step: the data of version `v` of a type turned into the data of version `v + 1`. */
type Upcaster = (data: unknown) => unknown;

/**
 * NodeRegistered v0 (legacy): agents before incarnations and resources registered with the node
 * name and its labels only.
 */
export interface NodeRegisteredV0 {
  readonly node: string;
  readonly labels: Labels;
}

/** The incarnation given to nodes registered by a v0 agent: one incarnation, never renewed. */
export const LEGACY_INCARNATION = 'legacy';

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** NodeRegistered v0 → v1: incarnation "legacy", empty capacity and allocatable. */
function nodeRegisteredV0ToV1(data: unknown): unknown {
  if (!isPlainObject(data)) return data;
  const old = data as Partial<NodeRegisteredV0>;
  return { node: old.node, incarnation: LEGACY_INCARNATION, labels: old.labels, capacity: {}, allocatable: {} };
}

/** type → (from version → step to the next version). A Map, so no type name reaches a prototype. */
const UPCASTERS: ReadonlyMap<string, ReadonlyMap<number, Upcaster>> = new Map([
  ['NodeRegistered', new Map([[0, nodeRegisteredV0ToV1]])],
]);

/** Applies every registered step from `raw.v` on; returns `raw` itself when none applies. */
export function upcast(raw: RawEvent): RawEvent {
  const steps = UPCASTERS.get(raw.type);
  if (steps === undefined) return raw;
  let { v, data } = raw;
  let step = steps.get(v);
  if (step === undefined) return raw;
  while (step !== undefined) {
    data = step(data);
    v += 1;
    step = steps.get(v);
  }
  return { type: raw.type, v, data };
}
