// The API's read model: the same State every process folds (evolve over the log, followed live
// with an ordered consumer), plus the Kubernetes objects derived from it, each stamped with the
// log sequence at which it last changed (its resourceVersion). Changes are detected by comparing
// each object's JSON after a batch of envelopes is folded, and published to the watch hub.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { eventRecordOf } from '../../libs/core/event-records.js';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { daemonSetObject, namespaceObject, nodeObject, podObject } from '../../libs/core/k8s-objects.js';
import { namespaceViews } from '../../libs/core/namespaces.js';
import { dsKey, initialState, podKey, type DsRecord, type State } from '../../libs/core/state.js';
import { eventKind, type EventKind } from '../../libs/events/event-table.js';
import type { Envelope, LogEvent } from '../../libs/events/types.js';
import type { PodTemplateSpec } from '../../libs/model/types.js';
import { openLogReader, type LogReader } from '../../libs/nats/log-reader.js';
import { waitForTopology } from '../../libs/nats/topology.js';
import { controllerRevisionObject } from '../../libs/present/history.js';
import { keptRevisions } from '../../libs/present/kept-revisions.js';
import { eventObject, involvedObjectOf } from './derived-objects.js';
import { asApiObject, objectKey, storeObject, type ApiObject, type ResourceName, type StoredObject } from './stored-object.js';
import { createWatchHub, type ChangeRecord, type WatchHub } from './watch-hub.js';

export interface ReadModel {
  /** The folded state; read it, never change it. */
  readonly state: State;
  readonly slots: number;
  readonly hub: WatchHub;
  /** The log sequence the served objects reflect (the resourceVersion of lists). */
  servedSeq(): number;
  list(resource: ResourceName): Iterable<StoredObject>;
  get(resource: ResourceName, namespace: string, name: string): StoredObject | undefined;
  /** Resolves once the served objects reflect `seq`; rejects after `timeoutMs`. */
  waitForServed(seq: number, timeoutMs?: number): Promise<void>;
  /** Resolves once everything written to the log so far is served. */
  catchUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

type Computed = Map<string, ApiObject>;

/** A pod's removal can finish a DaemonSet's deletion (a namespace may go with it) and free an old revision. */
const POD_RESOURCES: readonly ResourceName[] = ['pods', 'daemonsets', 'controllerrevisions', 'namespaces'];

/** Which derived resources an event of each kind (libs/events/event-table.ts) can change. */
const TOUCHED_BY_KIND: { readonly [K in EventKind]: readonly ResourceName[] } = {
  spec: ['daemonsets', 'controllerrevisions', 'pods', 'namespaces'],
  status: ['daemonsets'],
  namespace: ['namespaces'],
  // A node's labels, taints, cordon and liveness change only the node object (see touched()).
  'node-fact': ['nodes'],
  liveness: ['nodes'],
  command: POD_RESOURCES,
  'pod-report': POD_RESOURCES,
  'pod-request': POD_RESOURCES,
  clock: [],
  shard: [],
  heartbeat: [],
};

/** A node's arrival or departure also changes the pods and DaemonSets placed on it. */
const NODE_MEMBERSHIP: readonly ResourceName[] = ['nodes', 'pods', 'daemonsets', 'controllerrevisions'];

/** Which derived resources an event can change (events themselves are appended as they come). */
function touched(e: LogEvent): readonly ResourceName[] {
  if (e.type === 'NodeRegistered' || e.type === 'NodeDeregistered') return NODE_MEMBERSHIP;
  return TOUCHED_BY_KIND[eventKind(e)];
}

/** A DaemonSet deleted in the background is gone for readers at once (its pods go afterwards). */
function isVisible(ds: DsRecord): boolean {
  return ds.deletion?.propagation !== 'background';
}

function compute(resource: Exclude<ResourceName, 'events'>, state: State): Computed {
  const out: Computed = new Map();
  switch (resource) {
    case 'daemonsets':
      for (const ds of state.daemonSets.values()) if (isVisible(ds)) out.set(dsKey(ds.namespace, ds.name), asApiObject(daemonSetObject(ds)));
      return out;
    case 'pods':
      for (const pod of state.pods.values()) out.set(podKey(pod.namespace, pod.name), asApiObject(podObject(pod, state)));
      return out;
    case 'nodes':
      for (const node of state.nodes.values()) out.set(objectKey('', node.name), asApiObject(nodeObject(node, state)));
      return out;
    case 'controllerrevisions':
      for (const ds of state.daemonSets.values()) {
        if (!isVisible(ds)) continue;
        for (const r of keptRevisions(ds, state)) {
          const cr = asApiObject({ ...controllerRevisionObject(ds, r), data: revisionData(r.template) });
          out.set(objectKey(ds.namespace, cr.metadata.name), cr);
        }
      }
      return out;
    case 'namespaces':
      for (const ns of namespaceViews(state)) out.set(objectKey('', ns.name), asApiObject(namespaceObject(ns)));
      return out;
    default: {
      const never: never = resource;
      return never;
    }
  }
}

/** JSON with every object's keys in sorted order, as Go marshals a map[string]interface{}. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortedKeys((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * A ControllerRevision's `data` byte for byte as the DaemonSet controller's getPatch writes it
 * (the typed template marshalled through a map: sorted keys, `creationTimestamp: null`), because
 * `kubectl rollout undo` decides "current template already matches" by comparing those bytes
 * with the same patch made from the DaemonSet it reads.
 */
function revisionData(template: PodTemplateSpec): unknown {
  const metadata = { creationTimestamp: null, ...(template.metadata ?? {}) };
  return sortedKeys({ spec: { template: { ...template, metadata, $patch: 'replace' } } });
}

const DERIVED: readonly Exclude<ResourceName, 'events'>[] = ['daemonsets', 'pods', 'nodes', 'controllerrevisions', 'namespaces'];

export async function startReadModel(nc: NatsConnection, log: Logger): Promise<ReadModel> {
  const { slots } = await waitForTopology(nc, { log });
  const state = initialState();
  const caches = new Map<ResourceName, Map<string, StoredObject>>(
    (['daemonsets', 'pods', 'nodes', 'controllerrevisions', 'namespaces', 'events'] as const).map((r) => [r, new Map()]),
  );
  const dirty = new Set<ResourceName>();
  let pendingEvents: StoredObject[] = [];
  let live = false;
  let served = 0;
  let flushScheduled = false;
  let hub: WatchHub = createWatchHub(0);
  const waiters: { seq: number; resolve: () => void }[] = [];

  const recordEvent = (env: Envelope): void => {
    const rec = eventRecordOf(state, env);
    if (!rec) return;
    // The uid of the involved object as it is before this envelope is folded.
    let uid: string | undefined;
    const [kind, a, b] = rec.object.split('/');
    if (kind === 'daemonset' && a !== undefined && b !== undefined) uid = state.daemonSets.get(dsKey(a, b))?.uid ?? (env.event.type === 'DaemonSetDeleted' ? env.event.data.uid : undefined);
    if (kind === 'pod' && a !== undefined && b !== undefined) uid = state.pods.get(podKey(a, b))?.uid;
    const involved = involvedObjectOf(rec.object, uid);
    if (!involved) return;
    const stored = storeObject(asApiObject(eventObject(rec, involved)), rec.seq);
    caches.get('events')?.set(objectKey(stored.namespace, stored.name), stored);
    if (live) pendingEvents.push(stored);
  };

  const flush = (): void => {
    flushScheduled = false;
    const seq = state.seq;
    const changes: ChangeRecord[] = pendingEvents.map((stored) => ({ rv: stored.rv, resource: 'events', type: 'ADDED', stored }));
    pendingEvents = [];
    for (const resource of DERIVED) {
      if (!dirty.has(resource)) continue;
      const cache = caches.get(resource)!;
      const fresh = compute(resource, state);
      for (const [key, obj] of fresh) {
        const json = JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } });
        const old = cache.get(key);
        if (old && old.json === json) continue;
        const stored = storeObject(obj, seq, json);
        cache.set(key, stored);
        changes.push({ rv: seq, resource, type: old ? 'MODIFIED' : 'ADDED', stored });
      }
      for (const [key, old] of cache) {
        if (fresh.has(key)) continue;
        cache.delete(key);
        changes.push({ rv: seq, resource, type: 'DELETED', stored: storeObject(old.object, seq, old.json) });
      }
    }
    dirty.clear();
    served = Math.max(served, seq);
    hub.publish(changes);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.seq <= served) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const scheduleFlush = (): void => {
    if (!live || flushScheduled) return;
    flushScheduled = true;
    setImmediate(flush);
  };

  const reader: LogReader = await openLogReader({
    nc,
    log,
    onEnvelope: (env) => {
      recordEvent(env);
      evolve(state, env, { slots });
      for (const r of touched(env.event)) dirty.add(r);
      scheduleFlush();
    },
    onInvalid: (msg) => {
      skipPosition(state, msg.seq);
      scheduleFlush();
    },
  });
  const caught = await reader.caughtUp;
  // The first build: everything as of the end of the replay, stamped with that sequence.
  for (const r of DERIVED) dirty.add(r);
  live = true;
  flush();
  hub = createWatchHub(served);
  log.info({ seq: served, replayed: caught.count }, 'read model caught up');

  const waitForServed = (seq: number, timeoutMs = 10_000): Promise<void> => {
    if (seq <= served) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.indexOf(entry);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`the read model did not reach sequence ${seq} within ${timeoutMs} ms (at ${served})`));
      }, timeoutMs);
      const entry = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      waiters.push(entry);
    });
  };

  return {
    state,
    slots,
    get hub() {
      return hub;
    },
    servedSeq: () => served,
    list: (resource) => caches.get(resource)!.values(),
    get: (resource, namespace, name) => caches.get(resource)!.get(objectKey(namespace, name)),
    waitForServed,
    catchUp: async (timeoutMs) => waitForServed(await reader.lastSeqNow(), timeoutMs),
    stop: () => reader.stop(),
  };
}
