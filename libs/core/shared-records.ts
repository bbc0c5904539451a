// Memory for a fleet of 100,000s of pods: what pods of one DaemonSet revision share is stored once
// (one owner reference object per DaemonSet record, one frozen labels object per label set). Memos,
// not state: clearing them changes no result. PURE.

import type { Labels } from '../model/types.js';
import type { DsRecord } from './state.js';

/** One owner reference object per DaemonSet record, shared by all its pods. */
const ownerRefs = new WeakMap<DsRecord, { readonly name: string; readonly uid: string }>();

export function ownerRefOf(ds: DsRecord): { readonly name: string; readonly uid: string } {
  let ref = ownerRefs.get(ds);
  if (!ref) ownerRefs.set(ds, (ref = { name: ds.name, uid: ds.uid }));
  return ref;
}

/**
 * Identical label sets (all pods of one revision) share one frozen object. A memo, not state:
 * bounded, and clearing it changes no result.
 */
const labelSets = new Map<string, Labels>();
const MAX_LABEL_SETS = 10_000;

export function internLabels(labels: Labels): Labels {
  const key = JSON.stringify(labels);
  let shared = labelSets.get(key);
  if (!shared) {
    if (labelSets.size >= MAX_LABEL_SETS) labelSets.clear();
    labelSets.set(key, (shared = Object.freeze({ ...labels })));
  }
  return shared;
}
