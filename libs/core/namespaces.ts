// Which namespaces exist, as readers see them. PURE.
//
// Three kinds, in this order of precedence:
// - created: a NamespaceCreated on the log (state.namespaces), with its own uid and metadata;
// - built-in: default, kube-system, kube-public and kube-node-lease always exist, as in every
//   Kubernetes cluster, and cannot be deleted;
// - implicit: a namespace that holds a live DaemonSet but was never created, as a log written
//   before namespaces were events has them. It exists for as long as it holds one.

import type { Labels } from '../model/types.js';
import { derivedUid } from './ids.js';
import type { DaemonSetDeleted, NamespaceDeleted } from '../events/types.js';
import type { DsRecord, State } from './state.js';

/** Namespaces every cluster has (kube-apiserver's system namespaces). */
export const BUILTIN_NAMESPACES: readonly string[] = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

export type NamespaceOrigin = 'created' | 'builtin' | 'implicit';

export interface NamespaceView {
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly createdMs: number;
  /** Seq of the last NamespaceCreated; 0 for built-in and implicit namespaces never written. */
  readonly lastSeq: number;
  readonly origin: NamespaceOrigin;
}

export function isBuiltinNamespace(name: string): boolean {
  return BUILTIN_NAMESPACES.includes(name);
}

/** A DaemonSet readers still see (one deleted in the background is gone at once). */
function isLive(ds: DsRecord): boolean {
  return ds.deletion?.propagation !== 'background';
}

/** When the built-in namespaces began: the log's first event (an old snapshot may not know it). */
function clusterStartMs(state: State): number {
  if (state.firstTimeMs > 0) return state.firstTimeMs;
  let first = state.lastTimeMs;
  for (const ds of state.daemonSets.values()) first = Math.min(first, ds.createdMs);
  for (const node of state.nodes.values()) first = Math.min(first, node.registeredMs);
  return first;
}

/** The uid of a namespace that was never created on the log (built-in or implicit): derived from its name. */
export function derivedNamespaceUid(name: string): string {
  return derivedUid(`namespace/${name}`);
}

const uidOf = derivedNamespaceUid;

/** The first creation time of a live DaemonSet in each namespace that holds one. */
function firstDaemonSetMs(state: State, only?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const ds of state.daemonSets.values()) {
    if (!isLive(ds) || (only !== undefined && ds.namespace !== only)) continue;
    out.set(ds.namespace, Math.min(out.get(ds.namespace) ?? ds.createdMs, ds.createdMs));
  }
  return out;
}

function viewOf(state: State, name: string, implicitMs: number | undefined): NamespaceView | undefined {
  const created = state.namespaces.get(name);
  if (created) {
    const { uid, labels, annotations, createdMs, lastSeq } = created;
    return { name, uid, labels, annotations, createdMs, lastSeq, origin: 'created' };
  }
  if (isBuiltinNamespace(name)) return { name, uid: uidOf(name), labels: {}, annotations: {}, createdMs: clusterStartMs(state), lastSeq: 0, origin: 'builtin' };
  if (implicitMs === undefined) return undefined;
  return { name, uid: uidOf(name), labels: {}, annotations: {}, createdMs: implicitMs, lastSeq: 0, origin: 'implicit' };
}

/** Every namespace that exists, sorted by name. */
export function namespaceViews(state: State): NamespaceView[] {
  const implicit = firstDaemonSetMs(state);
  const names = new Set([...state.namespaces.keys(), ...BUILTIN_NAMESPACES, ...implicit.keys()]);
  return [...names]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => viewOf(state, name, implicit.get(name)))
    .filter((v): v is NamespaceView => v !== undefined);
}

/** One namespace, if it exists. */
export function namespaceView(state: State, name: string): NamespaceView | undefined {
  if (state.namespaces.has(name) || isBuiltinNamespace(name)) return viewOf(state, name, undefined);
  return viewOf(state, name, firstDaemonSetMs(state, name).get(name));
}

export function namespaceExists(state: State, name: string): boolean {
  return namespaceView(state, name) !== undefined;
}

/** The live DaemonSets of a namespace, sorted by name: what deleting the namespace deletes. */
export function daemonSetsIn(state: State, namespace: string): DsRecord[] {
  return [...state.daemonSets.values()].filter((ds) => ds.namespace === namespace && isLive(ds)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export type NamespaceDeletion =
  | { readonly ok: false; readonly reason: 'Forbidden' | 'NotFound' }
  | {
      readonly ok: true;
      /** One DaemonSetDeleted per live DaemonSet in it, each to state its DaemonSet's lastSpecSeq. */
      readonly daemonSets: readonly { readonly ds: DsRecord; readonly event: DaemonSetDeleted }[];
      /** Written after them, on the namespace's subject. */
      readonly event: NamespaceDeleted;
    };

/**
 * What deleting a namespace writes (kube's namespace deletion: its contents, then itself): its
 * DaemonSets with background propagation, then NamespaceDeleted. Built-ins are Forbidden.
 */
export function namespaceDeletion(state: State, name: string): NamespaceDeletion {
  if (isBuiltinNamespace(name)) return { ok: false, reason: 'Forbidden' };
  const view = namespaceView(state, name);
  if (view === undefined) return { ok: false, reason: 'NotFound' };
  return {
    ok: true,
    daemonSets: daemonSetsIn(state, name).map((ds) => ({
      ds,
      event: { type: 'DaemonSetDeleted', v: 1, data: { namespace: ds.namespace, name: ds.name, uid: ds.uid, propagation: 'background' } },
    })),
    event: { type: 'NamespaceDeleted', v: 1, data: { name, uid: view.uid } },
  };
}

/** kube's refusal of a built-in's deletion (NamespaceLifecycle admission). */
export const UNDELETABLE_NAMESPACE = 'this namespace may not be deleted';
