// What an agent does with a command addressed to its node: the pure decision, so fencing and
// at-most-once execution are unit-tested without a bus. The agent folds every command of its
// current incarnation (from its registration on) through `applyCommand`; replaying the same
// commands after a crash gives the same view, and the shell only acts on the new ones.

import type { CommandRejected, PodCommand, PodCreate } from '../events/types.js';

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

/** The report of a refused command, naming the pod it concerned. */
export function commandRejected(cmd: PodCommand, node: string, reason: CommandRejected['data']['reason'], message: string): CommandRejected {
  const pod =
    cmd.type === 'PodCreate'
      ? { namespace: cmd.data.pod.namespace, podName: cmd.data.pod.name, podUid: cmd.data.pod.uid }
      : { namespace: cmd.data.namespace, podName: cmd.data.podName, podUid: cmd.data.podUid };
  return {
    type: 'CommandRejected',
    v: 1,
    data: { node, commandId: cmd.data.id, commandType: cmd.type, slot: cmd.data.slot, epoch: cmd.data.epoch, ...pod, reason, message },
  };
}

/** Node.js `process.arch` → Kubernetes' GOARCH names. */
export const KUBE_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' };

/** The labels a kubelet puts on its node (hostname, os, arch); the machine's facts are arguments. */
export function defaultNodeLabels(node: string, os: string, arch: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': node,
    'kubernetes.io/os': os,
    'kubernetes.io/arch': KUBE_ARCH[arch] ?? arch,
  };
}
