// What an agent does with a command addressed to its node: the pure decision, so fencing and
// at-most-once execution are unit-tested without a bus. The agent folds every command of its
// current incarnation (from its registration on) through `applyCommand`; replaying the same
// commands after a crash gives the same view, and the shell only acts on the new ones.

import type { PodCommand, PodCreate } from '../events/types.js';

export interface AgentPod {
  readonly uid: string;
  readonly create: PodCreate['data'];
}

export interface AgentView {
  /** Pods this node should be running, by uid. */
  readonly pods: Map<string, AgentPod>;
  /** Highest epoch seen per slot (fencing). */
  readonly epochs: Map<number, number>;
  /** Uids ever deleted on this node, so a late duplicate create does not bring one back. */
  readonly deleted: Set<string>;
}

export type AgentAction =
  | { readonly kind: 'start'; readonly pod: AgentPod }
  | { readonly kind: 'stop'; readonly uid: string; readonly known: boolean }
  | { readonly kind: 'reject'; readonly reason: 'StaleEpoch' | 'Invalid'; readonly message: string }
  | { readonly kind: 'ignore'; readonly why: string };

export function newAgentView(): AgentView {
  return { pods: new Map(), epochs: new Map(), deleted: new Set() };
}

export function applyCommand(view: AgentView, cmd: PodCommand, node: string): AgentAction {
  const d = cmd.data;
  if (d.node !== node) return { kind: 'reject', reason: 'Invalid', message: `command for node ${d.node} delivered to ${node}` };
  const highest = view.epochs.get(d.slot) ?? 0;
  if (d.epoch < highest) {
    return {
      kind: 'reject',
      reason: 'StaleEpoch',
      message: `epoch ${d.epoch} is below ${highest}, the highest seen for slot ${d.slot}`,
    };
  }
  view.epochs.set(d.slot, d.epoch);
  if (cmd.type === 'PodCreate') {
    const uid = cmd.data.pod.uid;
    if (view.pods.has(uid)) return { kind: 'ignore', why: 'already running' };
    if (view.deleted.has(uid)) return { kind: 'ignore', why: 'already deleted' };
    const pod: AgentPod = { uid, create: cmd.data };
    view.pods.set(uid, pod);
    return { kind: 'start', pod };
  }
  const known = view.pods.delete(cmd.data.podUid);
  view.deleted.add(cmd.data.podUid);
  return { kind: 'stop', uid: cmd.data.podUid, known };
}
