// Every stream, subject, bucket and header name of the system, in one place.
// Subject builders come in pairs: a publish subject and the filter that reads it back.
// PURE: no I/O.

import { escapeToken } from './escape.js';

/**
 * The log: every state-changing fact and command, one total order. Two parts, each readable apart:
 * `s.<slot>.…`, everything about the DaemonSets of one shard slot (one filter, `s.<slot>.>`, reads
 * a slot's whole history, so a controller reads only the slots it owns), and `g.…`, the global
 * facts every controller needs (nodes, liveness, namespaces; read with `g.>`).
 */
export const LOG_STREAM = 'DS_LOG';
export const LOG_SUBJECTS = ['s.>', 'g.>'] as const;
/** The subjects of the layout before per-slot reading: a log that has them must be migrated (dsctl migrate-log). */
export const LEGACY_LOG_SUBJECTS = ['ev.>', 'cmd.>'] as const;

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

/**
 * Object store: the newest snapshot of each part of the folded state: `global` (nodes, namespaces)
 * and `slot.<n>` (a slot's DaemonSets, pods and shard). SNAPSHOT_OBJECT (`state`, the whole state in
 * one object) is the layout before per-slot reading: ignored, and removed by dsctl migrate-log.
 */
export const SNAPSHOT_BUCKET = 'ds_snapshots';
export const SNAPSHOT_OBJECT = 'state';

/** The object holding the snapshot of one part of the state. */
export function snapshotObjectName(part: 'global' | number): string {
  return part === 'global' ? 'global' : `slot.${part}`;
}

export const DEFAULT_SLOTS = 64;

export const HEADER_REASON = 'Ds-Dead-Letter-Reason';
export const HEADER_ORIGINAL_SUBJECT = 'Ds-Original-Subject';
export const HEADER_ORIGINAL_SEQ = 'Ds-Original-Seq';
export const HEADER_CONSUMER = 'Ds-Consumer';

/**
 * `s.<slot>.ds.<ns>.<name>`: DaemonSetApplied, DaemonSetDeleted — the spec history only, so the
 * last message on it is the last spec write, which `apply` names for optimistic concurrency.
 */
export function dsSubject(slot: number, namespace: string, name: string): string {
  return `s.${slot}.ds.${escapeToken(namespace)}.${escapeToken(name)}`;
}
/** `s.<slot>.ds.>`: every DaemonSet spec event of one slot. */
export function dsSlotFilter(slot: number): string {
  return `s.${slot}.ds.>`;
}
export const DS_ALL_FILTER = 's.*.ds.>';

/** `s.<slot>.dss.<ns>.<name>`: DaemonSetStatusUpdated (the controller's writes, apart from the spec's). */
export function dsStatusSubject(slot: number, namespace: string, name: string): string {
  return `s.${slot}.dss.${escapeToken(namespace)}.${escapeToken(name)}`;
}

/** `g.node.<node>`: NodeRegistered, NodeLabelsSet, NodeTaintsSet, NodeUnschedulableSet, NodeDeregistered. */
export function nodeSubject(node: string): string {
  return `g.node.${escapeToken(node)}`;
}
export const NODE_ALL_FILTER = 'g.node.>';

/**
 * `g.nodeadm.<node>`: an administrator's node writes (NodeLabelsSet and NodeTaintsSet with
 * source `admin`, NodeUnschedulableSet). Apart from `g.node.<node>` so that a node's own
 * credentials, which may publish there, cannot cordon, uncordon or re-taint it as an admin.
 */
export function nodeAdminSubject(node: string): string {
  return `g.nodeadm.${escapeToken(node)}`;
}

/** `g.ns.<name>`: NamespaceCreated, NamespaceDeleted (admins). */
export function namespaceSubject(name: string): string {
  return `g.ns.${escapeToken(name)}`;
}
export const NAMESPACE_ALL_FILTER = 'g.ns.>';

/** `g.life.<node>`: NodeReady, NodeNotReady (controller's liveness verdicts). */
export function lifeSubject(node: string): string {
  return `g.life.${escapeToken(node)}`;
}

/** `s.<slot>.cmd.<node>`: PodCreate, PodDelete. */
export function commandSubject(slot: number, node: string): string {
  return `s.${slot}.cmd.${escapeToken(node)}`;
}
/** `s.*.cmd.>`: every command of every node (the fleet's one command reader). */
export const COMMAND_ALL_FILTER = 's.*.cmd.>';
/** `s.*.cmd.<node>`: every command for one node, whatever the slot. */
export function nodeCommandFilter(node: string): string {
  return `s.*.cmd.${escapeToken(node)}`;
}

/** `s.<slot>.pod.<node>`: PodStarted, PodReady, PodNotReady, PodFailed, PodSucceeded, PodDeleted, CommandRejected. */
export function podReportSubject(slot: number, node: string): string {
  return `s.${slot}.pod.${escapeToken(node)}`;
}

/** `s.*.pod.>`: every pod report of every slot and node. */
export const POD_REPORT_ALL_FILTER = 's.*.pod.>';

/** `s.<slot>.podreq.<node>`: PodDeleteRequested (admins). */
export function podRequestSubject(slot: number, node: string): string {
  return `s.${slot}.podreq.${escapeToken(node)}`;
}

/** `s.<slot>.clock`: ClockTicked (the slot's controller). */
export function clockSubject(slot: number): string {
  return `s.${slot}.clock`;
}

/** `s.<slot>.shard`: ShardAcquired. */
export function shardSubject(slot: number): string {
  return `s.${slot}.shard`;
}

/** `hb.<node>`: Heartbeat. */
export function heartbeatSubject(node: string): string {
  return `hb.${escapeToken(node)}`;
}
export const HEARTBEAT_ALL_FILTER = 'hb.>';

/**
 * The family of an event subject: the token after the slot in `s.<slot>.<family>.…`, the token
 * after `g.` in `g.<family>.…`, or the first token of the others (`hb.…`). Each event type belongs
 * to one (libs/events/event-table.ts).
 */
export type SubjectFamily = 'ds' | 'dss' | 'ns' | 'node' | 'nodeadm' | 'life' | 'pod' | 'podreq' | 'clock' | 'shard' | 'cmd' | 'hb';

/** The families written under a slot (`s.<slot>.<family>…`); the others but `hb` are global (`g.<family>.…`). */
const SLOT_FAMILIES: ReadonlySet<string> = new Set(['ds', 'dss', 'cmd', 'pod', 'podreq', 'clock', 'shard']);

/** Whether a family's subjects carry a slot (`s.<slot>.…`). */
export function isSlotFamily(family: SubjectFamily): boolean {
  return SLOT_FAMILIES.has(family);
}

/** The family a subject is in, read from its tokens; any string for a subject of no family. */
export function subjectFamilyOf(subject: string): string {
  const t = subject.split('.', 3);
  if (t[0] === 's') return t[2] ?? '';
  if (t[0] === 'g') return t[1] ?? '';
  return t[0]!;
}

/** How a family's subjects begin, for messages: `s.<slot>.ds`, `g.node`, `hb`. */
export function subjectFamilyPrefix(family: SubjectFamily): string {
  if (family === 'hb') return family;
  return isSlotFamily(family) ? `s.<slot>.${family}` : `g.${family}`;
}

/**
 * The slot of a log subject in the slot part (`s.<slot>.…`), or undefined for a global one (`g.…`)
 * and anything else. Cheap: a reader routes every message by it before decoding.
 */
export function subjectSlot(subject: string): number | undefined {
  if (subject.charCodeAt(0) !== 115 /* s */ || subject.charCodeAt(1) !== 46 /* . */) return undefined;
  let slot = 0;
  let i = 2;
  for (; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return undefined;
    slot = slot * 10 + (c - 48);
  }
  return i === 2 || i === subject.length ? undefined : slot;
}

/** `s.<slot>.>`: the whole history of one slot (specs, status, commands, pod reports and requests, clock, shard). */
export function slotFilter(slot: number): string {
  return `s.${slot}.>`;
}
/** `g.>`: every global fact (nodes and their admin writes, liveness verdicts, namespaces). */
export const GLOBAL_FILTER = 'g.>';
/** `s.>`: every slot's history, without the global facts. */
export const ALL_SLOTS_FILTER = 's.>';

/**
 * The node token (still escaped) of a node-scoped subject: `g.node.<n>`, `g.nodeadm.<n>`,
 * `g.life.<n>`, `s.<slot>.pod.<n>`, `s.<slot>.podreq.<n>`, `s.<slot>.cmd.<n>`, `hb.<n>`;
 * undefined for a subject that names no node.
 */
export function subjectNodeToken(subject: string): string | undefined {
  const t = subject.split('.');
  if (t[0] === 'g' && (t[1] === 'node' || t[1] === 'nodeadm' || t[1] === 'life') && t.length === 3) return t[2]!;
  if (t[0] === 's' && (t[2] === 'pod' || t[2] === 'podreq' || t[2] === 'cmd') && t.length === 4) return t[3]!;
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
export const HEADER_TIME = 'Ds-Time'; // a carried-over message's own time (ms since the epoch): log readers prefer it to the stream time (dsctl migrate-log)
