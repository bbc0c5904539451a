// The parts of the log a controller reads apart (each slot's `s.<slot>.…`, the global `g.…`) and
// the rules that join them. The state after folding is a function of how far each part is folded,
// whatever the interleaving: the only rules that join a slot to the global facts compare log
// sequences (see evolve). PURE.

import { eventFamily } from '../events/event-table.js';
import type { Envelope } from '../events/types.js';
import { isSlotFamily, subjectSlot } from '../topology/names.js';
import { dsSlot } from '../topology/slot.js';
import { removePod } from './pod-index.js';
import { podKey, type State } from './state.js';

/** The part of the log an envelope belongs to: 'global' (`g.…`), a slot (`s.<slot>.…`), or unknown. */
export type LogPart = 'global' | number | undefined;

/**
 * The part of an envelope: the slot its subject names, else (envelopes made in tests) the one its
 * event names. A pod report whose pod the state does not hold has no known slot (no position moves).
 */
export function partOf(state: State, env: Envelope, slots: number): LogPart {
  const e = env.event;
  if (!isSlotFamily(eventFamily(e))) return 'global';
  const fromSubject = subjectSlot(env.subject);
  if (fromSubject !== undefined) return fromSubject;
  switch (e.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
    case 'DaemonSetStatusUpdated':
      return dsSlot(e.data.namespace, e.data.name, slots);
    case 'PodCreate':
    case 'PodDelete':
    case 'CommandRejected':
    case 'ClockTicked':
    case 'ShardAcquired':
      return e.data.slot;
    case 'PodStarted':
    case 'PodReady':
    case 'PodNotReady':
    case 'PodFailed':
    case 'PodSucceeded':
    case 'PodDeleted':
    case 'PodDeleteRequested':
      return state.pods.get(podKey(e.data.namespace, e.data.podName))?.slot;
    default:
      return undefined;
  }
}

/**
 * Every global fact up to `seq` is folded: a tentative pod whose create is that old and whose node
 * is still unknown never existed.
 */
export function advanceGlobalThrough(state: State, seq: number): void {
  if (seq > state.globalThrough) state.globalThrough = seq;
  if (state.tentative.size === 0) return;
  for (const key of [...state.tentative]) {
    const pod = state.pods.get(key);
    if (!pod) {
      state.tentative.delete(key);
      continue;
    }
    if (pod.createSeq <= state.globalThrough && !state.nodes.has(pod.node)) removePod(state, key, pod);
  }
}

export function dropTentativeOnNode(state: State, node: string, beforeSeq: number): void {
  for (const key of [...state.tentative]) {
    const pod = state.pods.get(key);
    if (pod && pod.node === node && pod.createSeq < beforeSeq) removePod(state, key, pod);
  }
}

export function settleTentativeOnNode(state: State, node: string): void {
  const record = state.nodes.get(node);
  if (!record) return;
  for (const key of [...state.tentative]) {
    const pod = state.pods.get(key);
    if (pod && pod.node === node && pod.createSeq > record.incarnationSeq) state.tentative.delete(key);
  }
}

/**
 * After parts were loaded from snapshots taken at different points: applies the joining rules to
 * every pod once (a pod of an earlier incarnation goes; one whose node is unknown is tentative
 * until the global facts pass its create, and goes if they have).
 */
export function settleParts(state: State): State {
  for (const [key, pod] of [...state.pods]) {
    const node = state.nodes.get(pod.node);
    if (node) {
      if (node.incarnationSeq > pod.createSeq) removePod(state, key, pod);
      else state.tentative.delete(key);
    } else if (pod.createSeq <= state.globalThrough) {
      removePod(state, key, pod);
    } else {
      state.tentative.add(key);
    }
  }
  for (const ds of state.daemonSets.values()) {
    for (const [node, seq] of [...ds.rolledOff]) {
      const record = state.nodes.get(node);
      if (record ? record.incarnationSeq > seq : seq <= state.globalThrough) ds.rolledOff.delete(node);
    }
  }
  return state;
}
