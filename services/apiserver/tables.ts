// Server-side printing: meta.k8s.io/v1 Table objects with the columns and cells of Kubernetes'
// printers (pkg/printers/internalversion/printers.go: printDaemonSet, printPod, printNode,
// printNamespace, printControllerRevision, printEvent), which is what `kubectl get` asks for
// and prints as is. Cells come from the served object (so a DELETED watch event still prints).

import type { State } from '../../libs/core/state.js';
import { formatSelector } from '../../libs/model/selectors.js';
import type { LabelSelector, Labels } from '../../libs/model/types.js';
import { translateTimestampSince } from '../../libs/present/age.js';
import { formatLabels } from '../../libs/present/format-labels.js';
import { DEFAULT_AGENT_VERSION, NODE_LABEL_AGENT_VERSION, NODE_LABEL_EXTERNAL_IP, NODE_LABEL_INTERNAL_IP, NODE_LABEL_KERNEL_VERSION, NODE_LABEL_OS_IMAGE, NODE_LABEL_RUNTIME, nodeRoles } from '../../libs/present/get.js';
import type { ApiObject, ResourceName, StoredObject } from './stored-object.js';

export interface TableColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export type Cell = string | number;

export type IncludeObject = 'None' | 'Object' | 'Metadata';

export interface TableRow {
  readonly cells: readonly Cell[];
  readonly object?: unknown;
}

export interface K8sTable {
  readonly kind: 'Table';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: { readonly resourceVersion: string };
  readonly columnDefinitions: readonly TableColumn[];
  readonly rows: readonly TableRow[];
}

function col(name: string, type: TableColumn['type'] = 'string', priority = 0, format = ''): TableColumn {
  return { name, type, format, description: name, priority };
}

const NAME = col('Name', 'string', 0, 'name');

const COLUMNS: Record<ResourceName, readonly TableColumn[]> = {
  daemonsets: [
    NAME,
    col('Desired', 'integer'),
    col('Current', 'integer'),
    col('Ready', 'integer'),
    col('Up-to-date', 'integer'),
    col('Available', 'integer'),
    col('Node Selector'),
    col('Age'),
    col('Containers', 'string', 1),
    col('Images', 'string', 1),
    col('Selector', 'string', 1),
  ],
  pods: [
    NAME,
    col('Ready'),
    col('Status'),
    col('Restarts'),
    col('Age'),
    col('IP', 'string', 1),
    col('Node', 'string', 1),
    col('Nominated Node', 'string', 1),
    col('Readiness Gates', 'string', 1),
  ],
  nodes: [
    NAME,
    col('Status'),
    col('Roles'),
    col('Age'),
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  namespaces: [NAME, col('Status'), col('Age')],
  controllerrevisions: [NAME, col('Controller'), col('Revision', 'integer'), col('Age')],
  events: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'string', 1),
    col('Name', 'string', 1),
  ],
};

type Json = Record<string, unknown>;

function field(obj: unknown, ...keys: string[]): unknown {
  let v: unknown = obj;
  for (const k of keys) v = typeof v === 'object' && v !== null ? (v as Json)[k] : undefined;
  return v;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function age(timestamp: unknown, nowMs: number): string {
  const ms = typeof timestamp === 'string' ? Date.parse(timestamp) : NaN;
  return Number.isNaN(ms) ? '<unknown>' : translateTimestampSince(ms, nowMs);
}

function containers(obj: unknown): { name: string; image: string }[] {
  const list = field(obj, 'containers');
  return Array.isArray(list) ? list.map((c) => ({ name: str(field(c, 'name')), image: str(field(c, 'image')) })) : [];
}

function daemonSetCells(o: ApiObject, nowMs: number): Cell[] {
  const podSpec = field(o, 'spec', 'template', 'spec');
  const cs = containers(podSpec);
  return [
    o.metadata.name,
    num(field(o, 'status', 'desiredNumberScheduled')),
    num(field(o, 'status', 'currentNumberScheduled')),
    num(field(o, 'status', 'numberReady')),
    num(field(o, 'status', 'updatedNumberScheduled')),
    num(field(o, 'status', 'numberAvailable')),
    formatLabels(field(podSpec, 'nodeSelector') as Labels | undefined),
    age(o.metadata.creationTimestamp, nowMs),
    cs.map((c) => c.name).join(','),
    cs.map((c) => c.image).join(','),
    formatSelector((field(o, 'spec', 'selector') ?? {}) as LabelSelector),
  ];
}

function podCells(o: ApiObject, state: State, nowMs: number): Cell[] {
  const statuses = field(o, 'status', 'containerStatuses');
  const list = Array.isArray(statuses) ? statuses : [];
  const phase = str(field(o, 'status', 'phase'));
  const total = containers(field(o, 'spec')).length;
  const ready = phase === 'Running' ? list.filter((s) => field(s, 'ready') === true).length : 0;
  const restarts = list.reduce((sum: number, s) => sum + num(field(s, 'restartCount')), 0);
  const nodeName = str(field(o, 'spec', 'nodeName'));
  let reason = phase;
  // printPod's reason from the facts we have: the kubelet's waiting reason while a pod on a live
  // node has not started, Terminating once deleted unless already terminal.
  if (phase === 'Pending' && state.nodes.get(nodeName)?.ready === 'True') reason = 'ContainerCreating';
  if (o.metadata['deletionTimestamp'] !== undefined && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  return [o.metadata.name, `${ready}/${total}`, reason, String(restarts), age(o.metadata.creationTimestamp, nowMs), '<none>', nodeName || '<none>', '<none>', '<none>'];
}

function nodeCells(o: ApiObject, nowMs: number): Cell[] {
  const labels = o.metadata.labels ?? {};
  const conditions = field(o, 'status', 'conditions');
  const ready = Array.isArray(conditions) && conditions.some((c) => field(c, 'type') === 'Ready' && field(c, 'status') === 'True');
  const status = [ready ? 'Ready' : 'NotReady'];
  if (field(o, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  const roles = nodeRoles(labels);
  return [
    o.metadata.name,
    status.join(','),
    roles.length > 0 ? roles.join(',') : '<none>',
    age(o.metadata.creationTimestamp, nowMs),
    labels[NODE_LABEL_AGENT_VERSION] ?? DEFAULT_AGENT_VERSION,
    labels[NODE_LABEL_INTERNAL_IP] ?? '<none>',
    labels[NODE_LABEL_EXTERNAL_IP] ?? '<none>',
    labels[NODE_LABEL_OS_IMAGE] ?? '<unknown>',
    labels[NODE_LABEL_KERNEL_VERSION] ?? '<unknown>',
    labels[NODE_LABEL_RUNTIME] ?? '<unknown>',
  ];
}

function controllerRevisionCells(o: ApiObject, nowMs: number): Cell[] {
  const refs = o.metadata['ownerReferences'];
  const owner = Array.isArray(refs) ? refs.find((r) => field(r, 'controller') === true) : undefined;
  const controller = owner ? `${str(field(owner, 'kind')).toLowerCase()}.apps/${str(field(owner, 'name'))}` : '<none>';
  return [o.metadata.name, controller, num(field(o, 'revision')), age(o.metadata.creationTimestamp, nowMs)];
}

function eventCells(o: ApiObject, nowMs: number): Cell[] {
  const involved = field(o, 'involvedObject');
  const source = [str(field(o, 'source', 'component')), str(field(o, 'source', 'host'))].filter((s) => s !== '').join(', ');
  return [
    age(field(o, 'lastTimestamp'), nowMs),
    str(field(o, 'type')),
    str(field(o, 'reason')),
    `${str(field(involved, 'kind')).toLowerCase()}/${str(field(involved, 'name'))}`,
    str(field(involved, 'fieldPath')),
    source,
    str(field(o, 'message')),
    age(field(o, 'firstTimestamp'), nowMs),
    String(num(field(o, 'count'))),
    o.metadata.name,
  ];
}

export function tableCells(resource: ResourceName, o: ApiObject, state: State, nowMs: number): Cell[] {
  switch (resource) {
    case 'daemonsets':
      return daemonSetCells(o, nowMs);
    case 'pods':
      return podCells(o, state, nowMs);
    case 'nodes':
      return nodeCells(o, nowMs);
    case 'namespaces':
      return [o.metadata.name, str(field(o, 'status', 'phase')), age(o.metadata.creationTimestamp, nowMs)];
    case 'controllerrevisions':
      return controllerRevisionCells(o, nowMs);
    case 'events':
      return eventCells(o, nowMs);
    default: {
      const never: never = resource;
      return never;
    }
  }
}

/** The row's object as `includeObject` asks: none, the whole object, or (default) its metadata. */
function rowObject(o: ApiObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  resource: ResourceName,
  items: readonly StoredObject[],
  resourceVersion: number,
  opts: { readonly state: State; readonly nowMs: number; readonly include: IncludeObject },
): K8sTable {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: String(resourceVersion) },
    columnDefinitions: COLUMNS[resource],
    rows: items.map((it) => {
      const object = rowObject(it.object, opts.include);
      return { cells: tableCells(resource, it.object, opts.state, opts.nowMs), ...(object !== undefined ? { object } : {}) };
    }),
  };
}

/** `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (v1beta1 too). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params.includes('g=meta.k8s.io');
  });
}
