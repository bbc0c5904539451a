// What each event type means, in one table: its kind, the subject family it is published in
// (libs/topology/names.ts), and whether it is node-scoped and which field names its node. The
// switches that route, authorise or present events read this table, or are checked against it by
// test/unit/event-table.test.ts. The mapped type makes tsc refuse the table when a type is added
// to the union without a row. PURE.

import type { SubjectFamily } from '../topology/names.js';
import type { AnyEvent, EventType, NodeFactSource } from './types.js';

/**
 * What an event is: a DaemonSet `spec` write, its `status`, a `namespace`, a `node-fact` (the
 * node's registration, labels, taints, cordon), a `liveness` verdict, a `command` to an agent, a
 * `pod-report` from an agent (or its refusal of a command), an admin's `pod-request`, a `clock`
 * tick, a `shard` lease, or a `heartbeat`.
 */
export type EventKind =
  | 'spec'
  | 'status'
  | 'namespace'
  | 'node-fact'
  | 'liveness'
  | 'command'
  | 'pod-report'
  | 'pod-request'
  | 'clock'
  | 'shard'
  | 'heartbeat';

type EventOf<K extends EventType> = Extract<AnyEvent, { type: K }>;

/** The fields of `D` that hold a string. */
type StringField<D> = { [F in keyof D]-?: D[F] extends string ? F : never }[keyof D];

export interface EventRow<E extends AnyEvent> {
  readonly kind: EventKind;
  /** Its subject family; for a node fact with a `source`, one per source (agent and admin write apart). */
  readonly family: E['data'] extends { readonly source: NodeFactSource } ? Readonly<Record<NodeFactSource, SubjectFamily>> : SubjectFamily;
  /** The data field naming the node its subject names; undefined when the subject names none. */
  readonly nodeField: StringField<E['data']> | undefined;
}

export type EventTable = { readonly [K in EventType]: EventRow<EventOf<K>> };

const BY_SOURCE = { agent: 'node', admin: 'nodeadm' } as const;

export const EVENT_TABLE = {
  DaemonSetApplied: { kind: 'spec', family: 'ds', nodeField: undefined },
  DaemonSetDeleted: { kind: 'spec', family: 'ds', nodeField: undefined },
  NamespaceCreated: { kind: 'namespace', family: 'ns', nodeField: undefined },
  NamespaceDeleted: { kind: 'namespace', family: 'ns', nodeField: undefined },
  NodeRegistered: { kind: 'node-fact', family: 'node', nodeField: 'node' },
  NodeLabelsSet: { kind: 'node-fact', family: BY_SOURCE, nodeField: 'node' },
  NodeTaintsSet: { kind: 'node-fact', family: BY_SOURCE, nodeField: 'node' },
  NodeUnschedulableSet: { kind: 'node-fact', family: 'nodeadm', nodeField: 'node' },
  NodeDeregistered: { kind: 'node-fact', family: 'node', nodeField: 'node' },
  NodeReady: { kind: 'liveness', family: 'life', nodeField: 'node' },
  NodeNotReady: { kind: 'liveness', family: 'life', nodeField: 'node' },
  PodCreate: { kind: 'command', family: 'cmd', nodeField: 'node' },
  PodDelete: { kind: 'command', family: 'cmd', nodeField: 'node' },
  PodStarted: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  PodReady: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  PodNotReady: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  PodFailed: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  PodSucceeded: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  PodDeleted: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  CommandRejected: { kind: 'pod-report', family: 'pod', nodeField: 'node' },
  DaemonSetStatusUpdated: { kind: 'status', family: 'dss', nodeField: undefined },
  PodDeleteRequested: { kind: 'pod-request', family: 'podreq', nodeField: 'node' },
  ClockTicked: { kind: 'clock', family: 'clock', nodeField: undefined },
  ShardAcquired: { kind: 'shard', family: 'shard', nodeField: undefined },
  Heartbeat: { kind: 'heartbeat', family: 'hb', nodeField: 'node' },
} as const satisfies EventTable;

/** A row read through its event's type, whatever the type. */
function rowOf(event: AnyEvent): { readonly kind: EventKind; readonly family: SubjectFamily | Readonly<Record<NodeFactSource, SubjectFamily>>; readonly nodeField: string | undefined } {
  return EVENT_TABLE[event.type];
}

/** The kind of an event. */
export function eventKind(event: AnyEvent): EventKind {
  return rowOf(event).kind;
}

/** The subject family an event must be published in. */
export function eventFamily(event: AnyEvent): SubjectFamily {
  const { family } = rowOf(event);
  return typeof family === 'string' ? family : family[(event.data as { readonly source: NodeFactSource }).source];
}

/**
 * The node an event is about, for events whose subject names a node (`g.node.<node>`,
 * `g.nodeadm.<node>`, `g.life.<node>`, `s.<slot>.cmd.<node>`, `s.<slot>.pod.<node>`,
 * `s.<slot>.podreq.<node>`, `hb.<node>`); undefined for the others, whose subjects name none.
 */
export function eventNode(event: AnyEvent): string | undefined {
  const { nodeField } = rowOf(event);
  return nodeField === undefined ? undefined : (event.data as unknown as Readonly<Record<string, string>>)[nodeField];
}

/** The types whose row has kind `K`, as a type. */
export type TypesOfKind<K extends EventKind> = { [T in EventType]: (typeof EVENT_TABLE)[T]['kind'] extends K ? T : never }[EventType];

/** The types of one kind, in the order of the table. */
export function typesOfKind<K extends EventKind>(kind: K): readonly TypesOfKind<K>[] {
  return (Object.keys(EVENT_TABLE) as EventType[]).filter((type): type is TypesOfKind<K> => EVENT_TABLE[type].kind === kind);
}

/** The reports an agent files on `s.<slot>.pod.<node>` about a pod on its node, and its refusals of commands. */
export type PodReport = EventOf<TypesOfKind<'pod-report'>>;

/** PodStarted, PodReady, PodNotReady, PodFailed, PodSucceeded, PodDeleted, CommandRejected. */
export const POD_REPORT_TYPES: readonly PodReport['type'][] = typesOfKind('pod-report');

/** Whether an event is a pod report (kind `pod-report` in the table). */
export function isPodReport<E extends AnyEvent>(event: E): event is Extract<E, PodReport> {
  return rowOf(event).kind === 'pod-report';
}
