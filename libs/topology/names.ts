// Every stream, subject, bucket and header name of the system, in one place.
// Subject builders come in pairs: a publish subject and the filter that reads it back.
// PURE: no I/O.

import { escapeToken } from './escape.js';

/** The log: every state-changing fact and command, one total order. */
export const LOG_STREAM = 'DS_LOG';
export const LOG_SUBJECTS = ['ev.>', 'cmd.>'] as const;

/** Heartbeats: only the last per node is kept (max_msgs_per_subject = 1). */
export const HEARTBEAT_STREAM = 'DS_HB';
export const HEARTBEAT_SUBJECTS = ['hb.>'] as const;

/** Messages that did not decode or validate, with the reason in a header; never lost. */
export const DEAD_LETTER_STREAM = 'DS_DLQ';
export const DEAD_LETTER_SUBJECTS = ['dlq.>'] as const;

/** KV: topology settings fixed at creation (slot count). */
export const CONFIG_BUCKET = 'ds_config';
export const CONFIG_SLOTS_KEY = 'slots';
/** KV: slot leases; the revision a controller acquired a slot at is its epoch. */
export const LEASE_BUCKET = 'ds_leases';

/** KV: live controllers (entries expire unless refreshed). */
export const MEMBERS_BUCKET = 'ds_members';

/** Object store: the newest snapshot of the folded state (object SNAPSHOT_OBJECT). */
export const SNAPSHOT_BUCKET = 'ds_snapshots';
export const SNAPSHOT_OBJECT = 'state';

export const DEFAULT_SLOTS = 64;

export const HEADER_REASON = 'Ds-Dead-Letter-Reason';
export const HEADER_ORIGINAL_SUBJECT = 'Ds-Original-Subject';
export const HEADER_ORIGINAL_SEQ = 'Ds-Original-Seq';
export const HEADER_CONSUMER = 'Ds-Consumer';

/**
 * `ev.ds.<slot>.<ns>.<name>`: DaemonSetApplied, DaemonSetDeleted — the spec history only, so the
 * last message on it is the last spec write, which `apply` names for optimistic concurrency.
 */
export function dsSubject(slot: number, namespace: string, name: string): string {
  return `ev.ds.${slot}.${escapeToken(namespace)}.${escapeToken(name)}`;
}
/** `ev.ds.<slot>.>`: every DaemonSet event of one slot. */
export function dsSlotFilter(slot: number): string {
  return `ev.ds.${slot}.>`;
}
export const DS_ALL_FILTER = 'ev.ds.>';

/** `ev.dss.<slot>.<ns>.<name>`: DaemonSetStatusUpdated (the controller's writes, apart from the spec's). */
export function dsStatusSubject(slot: number, namespace: string, name: string): string {
  return `ev.dss.${slot}.${escapeToken(namespace)}.${escapeToken(name)}`;
}

/** `ev.node.<node>`: NodeRegistered, NodeLabelsSet, NodeTaintsSet, NodeUnschedulableSet, NodeDeregistered. */
export function nodeSubject(node: string): string {
  return `ev.node.${escapeToken(node)}`;
}
export const NODE_ALL_FILTER = 'ev.node.>';

/**
 * `ev.nodeadm.<node>`: an administrator's node writes (NodeLabelsSet and NodeTaintsSet with
 * source `admin`, NodeUnschedulableSet). Apart from `ev.node.<node>` so that a node's own
 * credentials, which may publish there, cannot cordon, uncordon or re-taint it as an admin.
 */
export function nodeAdminSubject(node: string): string {
  return `ev.nodeadm.${escapeToken(node)}`;
}

/** `ev.ns.<name>`: NamespaceCreated, NamespaceDeleted (admins). */
export function namespaceSubject(name: string): string {
  return `ev.ns.${escapeToken(name)}`;
}
export const NAMESPACE_ALL_FILTER = 'ev.ns.>';

/** `ev.life.<node>`: NodeReady, NodeNotReady (controller's liveness verdicts). */
export function lifeSubject(node: string): string {
  return `ev.life.${escapeToken(node)}`;
}

/** `cmd.<slot>.<node>`: PodCreate, PodDelete. */
export function commandSubject(slot: number, node: string): string {
  return `cmd.${slot}.${escapeToken(node)}`;
}
/** `cmd.*.<node>`: every command for one node, whatever the slot. */
export function nodeCommandFilter(node: string): string {
  return `cmd.*.${escapeToken(node)}`;
}

/** `ev.pod.<slot>.<node>`: PodStarted, PodReady, PodNotReady, PodFailed, PodSucceeded, PodDeleted, CommandRejected. */
export function podReportSubject(slot: number, node: string): string {
  return `ev.pod.${slot}.${escapeToken(node)}`;
}

/** `ev.podreq.<slot>.<node>`: PodDeleteRequested (admins). */
export function podRequestSubject(slot: number, node: string): string {
  return `ev.podreq.${slot}.${escapeToken(node)}`;
}

/** `ev.clock.<slot>`: ClockTicked (the slot's controller). */
export function clockSubject(slot: number): string {
  return `ev.clock.${slot}`;
}

/** `ev.shard.<slot>`: ShardAcquired. */
export function shardSubject(slot: number): string {
  return `ev.shard.${slot}`;
}

/** `hb.<node>`: Heartbeat. */
export function heartbeatSubject(node: string): string {
  return `hb.${escapeToken(node)}`;
}
export const HEARTBEAT_ALL_FILTER = 'hb.>';

/**
 * The family of an event subject: the token after `ev.` (`ev.ds.…` is `ds`, `ev.nodeadm.…` is
 * `nodeadm`), or the first token of the others (`cmd.…`, `hb.…`). Each event type belongs to one
 * (libs/events/event-table.ts).
 */
export type SubjectFamily = 'ds' | 'dss' | 'ns' | 'node' | 'nodeadm' | 'life' | 'pod' | 'podreq' | 'clock' | 'shard' | 'cmd' | 'hb';

/** The family a subject is in, read from its tokens; any string for a subject of no family. */
export function subjectFamilyOf(subject: string): string {
  const dot = subject.indexOf('.');
  const first = dot < 0 ? subject : subject.slice(0, dot);
  if (first !== 'ev') return first;
  const rest = subject.slice(dot + 1);
  const next = rest.indexOf('.');
  return next < 0 ? rest : rest.slice(0, next);
}

/** How a family's subjects begin, for messages: `ev.ds`, `cmd`, `hb`. */
export function subjectFamilyPrefix(family: SubjectFamily): string {
  return family === 'cmd' || family === 'hb' ? family : `ev.${family}`;
}

/**
 * The node token (still escaped) of a node-scoped subject: `ev.node.<n>`, `ev.nodeadm.<n>`,
 * `ev.life.<n>`, `ev.pod.<slot>.<n>`, `ev.podreq.<slot>.<n>`, `cmd.<slot>.<n>`, `hb.<n>`;
 * undefined for a subject that names no node.
 */
export function subjectNodeToken(subject: string): string | undefined {
  const t = subject.split('.');
  if (t[0] === 'ev' && (t[1] === 'node' || t[1] === 'nodeadm' || t[1] === 'life') && t.length === 3) return t[2]!;
  if (t[0] === 'ev' && (t[1] === 'pod' || t[1] === 'podreq') && t.length === 4) return t[3]!;
  if (t[0] === 'cmd' && t.length === 3) return t[2]!;
  if (t[0] === 'hb' && t.length === 2) return t[1]!;
  return undefined;
}

/**
 * `dlq.<consumer>.<class>`: a message set aside by `consumer`, with headers naming the reason and
 * origin. The reject class (`not-msgpack`, `wrong-author`, …) is a token of its own so that the
 * stream's per-subject cap keeps a flood of one class from pushing out the dead letters of another.
 */
export function deadLetterSubject(consumer: string, rejectClass: string): string {
  return `dlq.${escapeToken(consumer)}.${escapeToken(rejectClass)}`;
}
/** Dead letters kept per consumer and class (the oldest go first). */
export const DEAD_LETTERS_PER_CLASS = 10_000;

/** KV key of a slot's lease. */
export function leaseKey(slot: number): string {
  return `slot.${slot}`;
}
