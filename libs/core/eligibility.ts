// Which nodes a DaemonSet's pods belong on: Kubernetes' NodeShouldRunDaemonPod and its
// `predicates` (pkg/controller/daemon/daemon_controller.go), with required node affinity as
// component-helpers/scheduling/corev1/nodeaffinity evaluates it.
//
// Resources, host ports and node.spec.unschedulable are deliberately not checked: Kubernetes
// leaves them to the scheduler, and the automatic `unschedulable` toleration lets daemon pods
// onto cordoned nodes.

import type { Labels, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint } from '../model/types.js';
import { requirementMatches } from '../model/selectors.js';
import { findUntoleratedTaint, formatTaint } from '../model/taints.js';
import { daemonTolerations } from './daemon-pod.js';

export interface NodeFacts {
  readonly name: string;
  readonly labels: Labels;
  readonly taints: readonly Taint[];
}

export interface Verdict {
  /** A new daemon pod should be placed on the node. */
  readonly shouldRun: boolean;
  /** An existing daemon pod on the node may stay. */
  readonly shouldContinueRunning: boolean;
  /** Why not, when shouldRun is false. */
  readonly reason?: string;
}

export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

/**
 * NodeShouldRunDaemonPod for the DaemonSet template's pod spec:
 * - a template nodeName naming another node, or a failed nodeSelector / required node affinity:
 *   (false, false);
 * - an untolerated NoSchedule taint: (false, true); an untolerated NoExecute taint: (false, false);
 *   tolerations are the template's plus the automatic daemon tolerations; PreferNoSchedule is ignored;
 * - otherwise (true, true).
 */
export function nodeShouldRunDaemonPod(podSpec: PodSpec, node: NodeFacts): Verdict {
  if (podSpec.nodeName && podSpec.nodeName !== node.name) {
    return { shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_NAME };
  }
  if (!requiredNodeAffinityMatches(podSpec, node)) {
    return { shouldRun: false, shouldContinueRunning: false, reason: REASON_NODE_AFFINITY };
  }
  const tolerations = daemonTolerations(podSpec);
  const untolerated = findUntoleratedTaint(node.taints, tolerations, ['NoSchedule', 'NoExecute']);
  if (untolerated === undefined) return { shouldRun: true, shouldContinueRunning: true };
  const noExecute = findUntoleratedTaint(node.taints, tolerations, ['NoExecute']);
  const shown = noExecute ?? untolerated;
  return { shouldRun: false, shouldContinueRunning: noExecute === undefined, reason: `node had untolerated taint ${formatTaint(shown)}` };
}

/**
 * GetRequiredNodeAffinity(pod).Match(node): the nodeSelector (every label equal) AND the required
 * node affinity (terms ORed, requirements in a term ANDed). A term that does not parse, or that
 * has no requirements, matches nothing.
 */
export function requiredNodeAffinityMatches(podSpec: PodSpec, node: NodeFacts): boolean {
  for (const [key, value] of Object.entries(podSpec.nodeSelector ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(node.labels, key) || node.labels[key] !== value) return false;
  }
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return required.nodeSelectorTerms.some((term) => nodeSelectorTermMatches(term, node));
}

/** nodeSelectorTerm.match: labels by matchExpressions, the node's name by matchFields. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: NodeFacts): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  if (!exprs.every((r) => labelRequirementParses(r) && requirementMatches({ key: r.key, operator: r.operator, values: r.values ?? [] }, node.labels))) {
    return false;
  }
  return fields.every((r) => fieldRequirementMatches(r, node));
}

/** nodeSelectorRequirementsAsSelector: the checks whose failure makes a term unusable. */
function labelRequirementParses(r: NodeSelectorRequirement): boolean {
  const n = r.values?.length ?? 0;
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      return n > 0;
    case 'Exists':
    case 'DoesNotExist':
      return n === 0;
    case 'Gt':
    case 'Lt':
      return n === 1 && /^[+-]?[0-9]+$/.test(r.values?.[0] ?? '');
    default:
      return false;
  }
}

/** nodeSelectorRequirementsAsFieldSelector: In/NotIn with exactly one value; the only field is metadata.name. */
function fieldRequirementMatches(r: NodeSelectorRequirement, node: NodeFacts): boolean {
  if ((r.operator !== 'In' && r.operator !== 'NotIn') || r.values?.length !== 1) return false;
  const fieldValue = r.key === 'metadata.name' ? node.name : '';
  const equal = fieldValue === r.values[0];
  return r.operator === 'In' ? equal : !equal;
}
