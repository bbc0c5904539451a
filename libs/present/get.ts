// `dsctl get ds|pods|nodes`: kubectl's tables (the printers of pkg/printers/internalversion:
// printDaemonSet, printPod, printNode), `-o wide|json|yaml|name`, and kubectl's messages for
// empty lists and missing names.

import type { Labels } from '../model/types.js';
import type { DsRecord, NodeRecord, PodRecord, State } from '../core/state.js';
import { formatSelector } from '../model/selectors.js';
import { daemonSetObject, listObject, namespaceObject, nodeObject, podObject } from '../core/k8s-objects.js';
import { namespaceViews, type NamespaceView } from '../core/namespaces.js';
import { translateTimestampSince } from './age.js';
import { byCodeUnit, formatLabels } from './format-labels.js';
import { toJson, toYaml } from './object-output.js';
import { tableOrEmpty } from './table.js';

export type GetKind = 'ds' | 'pods' | 'nodes' | 'namespaces';
export type GetOutput = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export interface GetOptions {
  /** The namespace of namespaced kinds; `default` when not given. Ignored for nodes. */
  readonly namespace?: string;
  readonly allNamespaces: boolean;
  readonly name?: string;
  readonly selector?: (labels: Labels) => boolean;
  readonly output: GetOutput;
  readonly nowMs: number;
}

export interface RenderResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export const DEFAULT_NAMESPACE = 'default';

/** Node labels the agent may set to fill kubectl's node columns (Kubernetes has them in status.nodeInfo). */
export const NODE_LABEL_AGENT_VERSION = 'ds.io/agent-version';
export const NODE_LABEL_RUNTIME = 'ds.io/runtime';
export const NODE_LABEL_INTERNAL_IP = 'ds.io/internal-ip';
export const NODE_LABEL_EXTERNAL_IP = 'ds.io/external-ip';
export const NODE_LABEL_OS_IMAGE = 'ds.io/os-image';
export const NODE_LABEL_KERNEL_VERSION = 'ds.io/kernel-version';
export const DEFAULT_AGENT_VERSION = 'v0.1.0';

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_ROLE_LABEL = 'kubernetes.io/role';

/** One row's worth of an object, whatever its kind. */
interface Item {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly object: () => unknown;
  readonly cells: (wide: boolean) => string[];
}

interface KindInfo {
  /** For NotFound: `daemonsets.apps`, `pods`, `nodes`. */
  readonly resource: string;
  /** For `-o name`: `daemonset.apps`, `pod`, `node`. */
  readonly nameKind: string;
  readonly namespaced: boolean;
  readonly headers: (wide: boolean) => string[];
  readonly items: (state: State, nowMs: number) => Item[];
}

/** layoutContainerCells: container names and images, comma-joined in spec order. */
function containerCells(containers: readonly { readonly name: string; readonly image: string }[]): [string, string] {
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(',')];
}

function dsItem(ds: DsRecord, nowMs: number): Item {
  return {
    namespace: ds.namespace,
    name: ds.name,
    labels: ds.labels,
    object: () => daemonSetObject(ds),
    cells: (wide) => {
      const st = daemonSetObject(ds).status;
      const spec = ds.spec.template.spec;
      const row = [
        ds.name,
        String(st.desiredNumberScheduled),
        String(st.currentNumberScheduled),
        String(st.numberReady),
        String(st.updatedNumberScheduled),
        String(st.numberAvailable),
        formatLabels(spec.nodeSelector),
        translateTimestampSince(ds.createdMs, nowMs),
      ];
      if (wide) row.push(...containerCells(spec.containers), formatSelector(ds.spec.selector));
      return row;
    },
  };
}

/**
 * printPod's STATUS for the facts we have: the phase, `ContainerCreating` while a pod waits for its
 * container on a node that is up (kubelet's waiting reason; on a node that is not Ready nothing is
 * creating it and kubectl shows `Pending`), `Terminating` once deleted unless already terminal.
 */
export function podStatusReason(pod: PodRecord, state: State): string {
  let reason: string = pod.phase;
  if (pod.phase === 'Pending' && state.nodes.get(pod.node)?.ready === 'True') reason = 'ContainerCreating';
  if (pod.deletionMs !== undefined && pod.phase !== 'Succeeded' && pod.phase !== 'Failed') reason = 'Terminating';
  return reason;
}

function podItem(pod: PodRecord, state: State, nowMs: number): Item {
  return {
    namespace: pod.namespace,
    name: pod.name,
    labels: pod.labels,
    object: () => podObject(pod, state),
    cells: (wide) => {
      const obj = podObject(pod, state);
      const total = obj.spec.containers.length;
      // printPod counts a container ready when it is ready and running.
      const ready = pod.ready && pod.phase === 'Running' ? total : 0;
      const row = [
        pod.name,
        `${ready}/${total}`,
        podStatusReason(pod, state),
        String(pod.restartCount),
        translateTimestampSince(pod.createdMs, nowMs),
      ];
      if (wide) row.push('<none>', pod.node || '<none>', '<none>', '<none>');
      return row;
    },
  };
}

/** findNodeRoles: `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value, sorted, unique. */
export function nodeRoles(labels: Labels): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role.length > 0) roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort(byCodeUnit);
}

/** printNode's STATUS: Ready or NotReady (Unknown counts as not ready), then SchedulingDisabled. */
export function nodeStatus(node: NodeRecord): string {
  const status = [node.ready === 'True' ? 'Ready' : 'NotReady'];
  if (node.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeItem(node: NodeRecord, state: State, nowMs: number): Item {
  return {
    namespace: '',
    name: node.name,
    labels: node.labels,
    object: () => nodeObject(node, state),
    cells: (wide) => {
      const roles = nodeRoles(node.labels);
      const row = [
        node.name,
        nodeStatus(node),
        roles.length > 0 ? roles.join(',') : '<none>',
        translateTimestampSince(node.registeredMs, nowMs),
        node.labels[NODE_LABEL_AGENT_VERSION] ?? DEFAULT_AGENT_VERSION,
      ];
      if (wide) {
        // printNode: addresses say <none> when missing, nodeInfo fields say <unknown>.
        row.push(
          node.labels[NODE_LABEL_INTERNAL_IP] ?? '<none>',
          node.labels[NODE_LABEL_EXTERNAL_IP] ?? '<none>',
          node.labels[NODE_LABEL_OS_IMAGE] ?? '<unknown>',
          node.labels[NODE_LABEL_KERNEL_VERSION] ?? '<unknown>',
          node.labels[NODE_LABEL_RUNTIME] ?? '<unknown>',
        );
      }
      return row;
    },
  };
}

/** printNamespace: NAME, STATUS (the phase), AGE. */
function namespaceItem(ns: NamespaceView, nowMs: number): Item {
  return {
    namespace: '',
    name: ns.name,
    labels: ns.labels,
    object: () => namespaceObject(ns),
    cells: () => [ns.name, 'Active', translateTimestampSince(ns.createdMs, nowMs)],
  };
}

const KINDS: Record<GetKind, KindInfo> = {
  ds: {
    resource: 'daemonsets.apps',
    nameKind: 'daemonset.apps',
    namespaced: true,
    headers: (wide) => [
      'NAME',
      'DESIRED',
      'CURRENT',
      'READY',
      'UP-TO-DATE',
      'AVAILABLE',
      'NODE SELECTOR',
      'AGE',
      ...(wide ? ['CONTAINERS', 'IMAGES', 'SELECTOR'] : []),
    ],
    items: (state, nowMs) => [...state.daemonSets.values()].map((ds) => dsItem(ds, nowMs)),
  },
  pods: {
    resource: 'pods',
    nameKind: 'pod',
    namespaced: true,
    headers: (wide) => [
      'NAME',
      'READY',
      'STATUS',
      'RESTARTS',
      'AGE',
      ...(wide ? ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'] : []),
    ],
    items: (state, nowMs) => [...state.pods.values()].map((pod) => podItem(pod, state, nowMs)),
  },
  nodes: {
    resource: 'nodes',
    nameKind: 'node',
    namespaced: false,
    headers: (wide) => [
      'NAME',
      'STATUS',
      'ROLES',
      'AGE',
      'VERSION',
      ...(wide ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'] : []),
    ],
    items: (state, nowMs) => [...state.nodes.values()].map((node) => nodeItem(node, state, nowMs)),
  },
  namespaces: {
    resource: 'namespaces',
    nameKind: 'namespace',
    namespaced: false,
    headers: () => ['NAME', 'STATUS', 'AGE'],
    items: (state, nowMs) => namespaceViews(state).map((ns) => namespaceItem(ns, nowMs)),
  },
};

function fail(message: string): RenderResult {
  return { stdout: '', stderr: `${message}\n`, exitCode: 1 };
}

function byNamespaceThenName(a: Item, b: Item): number {
  return byCodeUnit(a.namespace, b.namespace) || byCodeUnit(a.name, b.name);
}

/** kubectl get, from the folded state. */
export function renderGet(kind: GetKind, state: State, opts: GetOptions): RenderResult {
  const info = KINDS[kind];
  const allNamespaces = info.namespaced && opts.allNamespaces;
  const namespace = info.namespaced && !allNamespaces ? (opts.namespace ?? DEFAULT_NAMESPACE) : undefined;

  if (opts.name !== undefined && opts.selector !== undefined) {
    return fail('error: name cannot be provided when a selector is specified');
  }
  if (opts.name !== undefined && allNamespaces) {
    return fail('error: a resource cannot be retrieved by name across all namespaces');
  }

  let items = info.items(state, opts.nowMs).filter((it) => namespace === undefined || it.namespace === namespace);
  if (opts.name !== undefined) {
    items = items.filter((it) => it.name === opts.name);
    if (items.length === 0) return fail(`Error from server (NotFound): ${info.resource} "${opts.name}" not found`);
  }
  const selector = opts.selector;
  if (selector) items = items.filter((it) => selector(it.labels));
  items.sort(byNamespaceThenName);

  const single = opts.name !== undefined;
  switch (opts.output) {
    case 'json':
    case 'yaml': {
      const value = single ? items[0]?.object() : listObject(items.map((it) => it.object()));
      return { stdout: opts.output === 'json' ? toJson(value) : toYaml(value), stderr: '', exitCode: 0 };
    }
    case 'name':
      return { stdout: items.map((it) => `${info.nameKind}/${it.name}\n`).join(''), stderr: '', exitCode: 0 };
    case 'table':
    case 'wide': {
      const wide = opts.output === 'wide';
      const headers = [...(allNamespaces ? ['NAMESPACE'] : []), ...info.headers(wide)];
      const rows = items.map((it) => [...(allNamespaces ? [it.namespace] : []), ...it.cells(wide)]);
      return { ...tableOrEmpty(headers, rows, namespace), exitCode: 0 };
    }
    default: {
      const never: never = opts.output;
      return never;
    }
  }
}
