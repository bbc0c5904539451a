// What the DaemonSet controller does to the template before a pod exists
// (pkg/controller/daemon/util/daemonset_util.go): the automatic daemon tolerations
// (AddOrUpdateDaemonPodTolerations) and the node pinning (ReplaceDaemonSetPodNodeNameNodeAffinity).

import type { Affinity, NodeSelectorTerm, PodSpec, TaintEffect, Toleration } from '../model/types.js';

export interface DaemonToleration {
  readonly toleration: Toleration;
  /** Added only when the template uses the host network. */
  readonly hostNetworkOnly: boolean;
}

function exists(key: string, effect: TaintEffect, hostNetworkOnly = false): DaemonToleration {
  return { toleration: { key, operator: 'Exists', effect }, hostNetworkOnly };
}

/**
 * The automatic tolerations, in Kubernetes' order: daemon pods are not evicted from not-ready or
 * unreachable nodes, land on nodes under pressure and on cordoned nodes, and (host-network pods
 * only) on nodes whose network is not ready yet.
 */
export const DAEMON_TOLERATIONS: readonly DaemonToleration[] = [
  exists('node.kubernetes.io/not-ready', 'NoExecute'),
  exists('node.kubernetes.io/unreachable', 'NoExecute'),
  exists('node.kubernetes.io/disk-pressure', 'NoSchedule'),
  exists('node.kubernetes.io/memory-pressure', 'NoSchedule'),
  exists('node.kubernetes.io/pid-pressure', 'NoSchedule'),
  exists('node.kubernetes.io/unschedulable', 'NoSchedule'),
  exists('node.kubernetes.io/network-unavailable', 'NoSchedule', true),
];

/** Toleration.MatchToleration: same key, operator, value and effect (tolerationSeconds aside). */
function sameToleration(a: Toleration, b: Toleration): boolean {
  return (
    (a.key ?? '') === (b.key ?? '') &&
    (a.operator ?? '') === (b.operator ?? '') &&
    (a.value ?? '') === (b.value ?? '') &&
    (a.effect ?? '') === (b.effect ?? '')
  );
}

/** daemonTolerations per template spec object (folded specs are never mutated): eligibility asks once per node per pass. */
const tolerationsOf = new WeakMap<PodSpec, readonly Toleration[]>();

/**
 * The template's tolerations plus the automatic ones (AddOrUpdateTolerationInPodSpec): a template
 * toleration that matches an automatic one is replaced in place by it (which drops its
 * tolerationSeconds); the others are appended.
 */
export function daemonTolerations(spec: PodSpec): Toleration[] {
  let cached = tolerationsOf.get(spec);
  if (cached === undefined) {
    cached = computeDaemonTolerations(spec);
    tolerationsOf.set(spec, cached);
  }
  return [...cached];
}

function computeDaemonTolerations(spec: PodSpec): Toleration[] {
  const out: Toleration[] = [...(spec.tolerations ?? [])];
  for (const auto of DAEMON_TOLERATIONS) {
    if (auto.hostNetworkOnly && spec.hostNetwork !== true) continue;
    const at = out.findIndex((t) => sameToleration(t, auto.toleration));
    if (at === -1) out.push(auto.toleration);
    else out[at] = auto.toleration;
  }
  return out;
}

/** The required node affinity that binds a daemon pod to its node. */
export function nodeNameAffinityTerm(node: string): NodeSelectorTerm {
  return { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] };
}

/**
 * ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes the single term
 * `metadata.name In [node]`; preferred terms and pod (anti-)affinity are kept.
 */
export function pinToNode(affinity: Affinity | undefined, node: string): Affinity {
  const required = { nodeSelectorTerms: [nodeNameAffinityTerm(node)] };
  return { ...affinity, nodeAffinity: { ...affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required } };
}

/**
 * The spec of the pod created for `node` (CreatePodTemplate + the pinning in syncNodes): the
 * template spec with the automatic tolerations and the node affinity. No nodeName is set: the
 * scheduler binds the pod (a template nodeName, which eligibility requires to be this node, stays).
 */
export function daemonPodSpec(templateSpec: PodSpec, node: string): PodSpec {
  return { ...templateSpec, tolerations: daemonTolerations(templateSpec), affinity: pinToNode(templateSpec.affinity, node) };
}

/** The node a daemon pod targets: its nodeName, else the `metadata.name` of its required affinity (GetTargetNodeName). */
export function targetNodeName(spec: PodSpec): string | undefined {
  if (spec.nodeName) return spec.nodeName;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}
