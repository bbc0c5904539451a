// Kubernetes objects the read model has no record type for, derived for the API: v1 Events (from
// the log's EventRecords, as `dsctl describe` and `dsctl events` show them). PURE.

import { rfc3339 } from '../../libs/core/k8s-objects.js';
import type { EventRecord } from '../../libs/core/state.js';

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: 'DaemonSet' | 'Pod' | 'Node';
  readonly namespace?: string;
  readonly name: string;
  readonly uid: string;
}

export interface K8sEvent {
  readonly apiVersion: 'v1';
  readonly kind: 'Event';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly creationTimestamp: string;
  };
  readonly involvedObject: InvolvedObject;
  readonly reason: string;
  readonly message: string;
  readonly source: { readonly component: string; readonly host?: string };
  readonly firstTimestamp: string;
  readonly lastTimestamp: string;
  readonly count: number;
  readonly type: 'Normal' | 'Warning';
  readonly eventTime: null;
  readonly reportingComponent: string;
  readonly reportingInstance: string;
}

/**
 * `daemonset/ns/name`, `pod/ns/name`, `node/name` → the involved object. `uid` is the object's uid
 * when the event was recorded (nodes use their name, as the node controller's events do).
 */
export function involvedObjectOf(object: string, uid: string | undefined): InvolvedObject | undefined {
  const parts = object.split('/');
  const [kind, a, b] = parts;
  if (kind === 'daemonset' && a !== undefined && b !== undefined) {
    return { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: a, name: b, uid: uid ?? '' };
  }
  if (kind === 'pod' && a !== undefined && b !== undefined) return { apiVersion: 'v1', kind: 'Pod', namespace: a, name: b, uid: uid ?? '' };
  if (kind === 'node' && a !== undefined) return { apiVersion: 'v1', kind: 'Node', name: a, uid: a };
  return undefined;
}

/** Which component records an event of this reason in Kubernetes. */
function componentOf(rec: EventRecord, involved: InvolvedObject): { component: string; host?: string } {
  if (involved.kind === 'DaemonSet') return { component: 'daemonset-controller' };
  if (involved.kind === 'Node') return rec.reason === 'NodeReady' || rec.reason === 'NodeNotReady' ? { component: 'node-controller' } : { component: 'kubelet', host: involved.name };
  return { component: 'kubelet' };
}

/** The v1 Event for one record: named `<object>.<seq in hex>`, node events in `default`. */
export function eventObject(rec: EventRecord, involved: InvolvedObject): K8sEvent {
  const at = rfc3339(rec.timeMs);
  const source = componentOf(rec, involved);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${involved.name}.${rec.seq.toString(16)}`, namespace: involved.namespace ?? 'default', creationTimestamp: at },
    involvedObject: involved,
    reason: rec.reason,
    message: rec.message,
    source,
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
    type: rec.kind,
    eventTime: null,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  };
}
