// `dsctl rollout history`: kubectl's texts (rollout_history.go, polymorphichelpers/history.go:
// printHistory, printTemplate) and its ControllerRevision objects, plus what only the log knows:
// the per-node timeline of a revision's rollout.

import { rfc3339, type K8sList, type K8sOwnerReference } from '../core/k8s-objects.js';
import { CHANGE_CAUSE_ANNOTATION } from '../core/evolve.js';
import { initialState, type DsRecord, type Revision } from '../core/state.js';
import type { Labels, PodTemplateSpec } from '../model/types.js';
import { formatGoDuration } from './go-duration.js';
import { summarizeTimeline, type PodTimeline } from './revision-timeline.js';
import { describeDaemonSet } from './describe.js';
import { DESCRIBE_TABWRITER, formatTable, tabwrite } from './table.js';

/** The label naming a revision's hash on its pods and its ControllerRevision. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/**
 * kubectl prints the history through a NamePrinter whose "operation" is the history text, so the
 * first line is `daemonset.apps/NAME ` (with a space) and a blank line closes the output.
 */
function named(ds: DsRecord, operation: string): string {
  return `daemonset.apps/${ds.name} ${operation}\n`;
}

/** printHistory without --revision: `REVISION  CHANGE-CAUSE`, ascending; `No rollout history found.` when empty. */
export function renderHistoryTable(ds: DsRecord, revisions: readonly Revision[]): string {
  if (revisions.length === 0) return named(ds, '\nNo rollout history found.');
  const rows = [...revisions]
    .sort((a, b) => a.revision - b.revision)
    .map((r) => `${r.revision}\t${r.changeCause ? r.changeCause : '<none>'}\n`)
    .join('');
  return named(ds, `\n${tabwrite(`REVISION\tCHANGE-CAUSE\n${rows}`, DESCRIBE_TABWRITER)}`);
}

/**
 * DescribePodTemplate's text for `template`. describe.ts keeps its DescribePodTemplate private, so
 * this cuts the `Pod Template:` section out of a describe of the DaemonSet carrying that template.
 * (kubectl writes this section without a tabwriter; describe aligns it: same words, other spacing.)
 */
function podTemplateText(ds: DsRecord, template: PodTemplateSpec): string {
  const text = describeDaemonSet({ ...ds, spec: { ...ds.spec, template } }, initialState(), [], 0);
  const start = text.indexOf('Pod Template:\n');
  const end = text.lastIndexOf('\nEvents:');
  return start < 0 || end < start ? '' : text.slice(start, end + 1);
}

/** printHistory with --revision=N: `daemonset.apps/NAME with revision #N` and the pod template. */
export function renderRevision(ds: DsRecord, revision: Revision): string {
  return named(ds, `with revision #${revision.revision}\n${podTemplateText(ds, revision.template)}`);
}

function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Beyond kubectl: every pod created from the revision's template, with when its PodCreate was
 * written, when it first reported Ready, and the time between; then nodes, median and max.
 */
export function renderTimeline(revision: Revision, pods: readonly PodTimeline[]): string {
  const title = `Rollout of revision #${revision.revision} (${CONTROLLER_REVISION_HASH_LABEL}=${revision.hash}):\n`;
  if (pods.length === 0) return `${title}No pods were created from this revision.\n`;
  const sorted = [...pods].sort((a, b) => a.createdMs - b.createdMs || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const rows = sorted.map((p) => [
    p.node,
    p.pod,
    isoMs(p.createdMs),
    p.readyMs === undefined ? '<none>' : isoMs(p.readyMs),
    p.readyMs === undefined ? '<none>' : formatGoDuration(p.readyMs - p.createdMs),
  ]);
  const s = summarizeTimeline(sorted);
  const times = s.medianMs === undefined || s.maxMs === undefined ? '' : `; time to ready: median ${formatGoDuration(s.medianMs)}, max ${formatGoDuration(s.maxMs)}`;
  const summary = `${s.nodes} node${s.nodes === 1 ? '' : 's'}, ${s.ready} of ${s.pods} pod${s.pods === 1 ? '' : 's'} ready${times}\n`;
  return `${title}${formatTable(['NODE', 'POD', 'CREATED', 'READY', 'DURATION'], rows)}${summary}`;
}

export interface K8sControllerRevision {
  readonly apiVersion: 'apps/v1';
  readonly kind: 'ControllerRevision';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Labels;
    readonly annotations?: Labels;
    readonly creationTimestamp: string;
    readonly ownerReferences: readonly K8sOwnerReference[];
  };
  readonly revision: number;
  /** As the DaemonSet controller stores it: the whole template, replacing on a strategic merge. */
  readonly data: { readonly spec: { readonly template: PodTemplateSpec & { readonly $patch: 'replace' } } };
}

/** The ControllerRevision the DaemonSet controller would hold for `revision` (Match/getPatch's shape). */
export function controllerRevisionObject(ds: DsRecord, revision: Revision): K8sControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${ds.name}-${revision.hash}`,
      namespace: ds.namespace,
      labels: { ...(revision.template.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: revision.hash },
      ...(revision.changeCause ? { annotations: { [CHANGE_CAUSE_ANNOTATION]: revision.changeCause } } : {}),
      creationTimestamp: rfc3339(revision.appliedMs),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.name, uid: ds.uid, controller: true, blockOwnerDeletion: true }],
    },
    revision: revision.revision,
    data: { spec: { template: { ...revision.template, $patch: 'replace' } } },
  };
}

export function controllerRevisionList(ds: DsRecord, revisions: readonly Revision[]): K8sList<K8sControllerRevision> {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { resourceVersion: '' },
    items: [...revisions].sort((a, b) => a.revision - b.revision).map((r) => controllerRevisionObject(ds, r)),
  };
}
