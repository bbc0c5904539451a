// Who may say what. Subject permissions (libs/topology/roles.ts) decide who may publish on a
// subject; this decides what may be said there: each event type belongs to one subject family
// (an agent's `ev.node.<n>` carries only what an agent says about itself, never an admin's
// cordon or taints, and `ev.pod` never a command), and a node-scoped event must name the node
// its subject names, so no one speaks for another node through a payload.

import type { AnyEvent } from '../events/types.js';
import { authorMatchesSubject } from '../events/validate.js';
import { unescapeToken } from '../topology/escape.js';

/** A subject's node token could not be read (a malformed escape): nothing may be filed there. */
const UNREADABLE = Symbol('unreadable');

/** The node a subject is scoped to (`ev.node.<n>`, `ev.life.<n>`, `ev.pod.<slot>.<n>`, `ev.podreq.<slot>.<n>`, `cmd.<slot>.<n>`, `hb.<n>`). */
function nodeToken(subject: string): string | undefined | typeof UNREADABLE {
  const t = subject.split('.');
  const read = (token: string): string | typeof UNREADABLE => {
    try {
      return unescapeToken(token);
    } catch {
      return UNREADABLE;
    }
  };
  if (t[0] === 'ev' && (t[1] === 'node' || t[1] === 'nodeadm' || t[1] === 'life') && t.length === 3) return read(t[2]!);
  if (t[0] === 'ev' && (t[1] === 'pod' || t[1] === 'podreq') && t.length === 4) return read(t[3]!);
  if (t[0] === 'cmd' && t.length === 3) return read(t[2]!);
  if (t[0] === 'hb' && t.length === 2) return read(t[1]!);
  return undefined;
}

export function subjectNode(subject: string): string | undefined {
  const node = nodeToken(subject);
  return node === UNREADABLE ? undefined : node;
}

/** A subject quoted safely for a reason (it goes into a NATS header and a terminal). */
function quoteSubject(subject: string): string {
  return JSON.stringify(subject.slice(0, 200)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

type Family = 'ds' | 'dss' | 'ns' | 'node' | 'nodeadm' | 'life' | 'pod' | 'podreq' | 'clock' | 'shard' | 'cmd' | 'hb';

/** The subject family an event must be published in (its first tokens). */
function familyOf(event: AnyEvent): Family {
  switch (event.type) {
    case 'DaemonSetApplied':
    case 'DaemonSetDeleted':
      return 'ds';
    case 'DaemonSetStatusUpdated':
      return 'dss';
    case 'NamespaceCreated':
    case 'NamespaceDeleted':
      return 'ns';
    case 'NodeRegistered':
    case 'NodeDeregistered':
      return 'node';
    case 'NodeLabelsSet':
    case 'NodeTaintsSet':
      return event.data.source === 'agent' ? 'node' : 'nodeadm';
    case 'NodeUnschedulableSet':
      return 'nodeadm';
    case 'NodeReady':
    case 'NodeNotReady':
      return 'life';
    case 'PodCreate':
    case 'PodDelete':
      return 'cmd';
    case 'PodStarted':
    case 'PodReady':
    case 'PodNotReady':
    case 'PodFailed':
    case 'PodSucceeded':
    case 'PodDeleted':
    case 'CommandRejected':
      return 'pod';
    case 'PodDeleteRequested':
      return 'podreq';
    case 'ClockTicked':
      return 'clock';
    case 'ShardAcquired':
      return 'shard';
    case 'Heartbeat':
      return 'hb';
  }
}

function subjectFamily(subject: string): string {
  const dot = subject.indexOf('.');
  const first = dot < 0 ? subject : subject.slice(0, dot);
  if (first !== 'ev') return first;
  const rest = subject.slice(dot + 1);
  const next = rest.indexOf('.');
  return `${next < 0 ? rest : rest.slice(0, next)}`;
}

export function checkAuthor(subject: string, event: AnyEvent): { ok: true } | { ok: false; reason: string } {
  const family = familyOf(event);
  const actual = subjectFamily(subject);
  if (family !== actual) {
    const what = event.type === 'NodeLabelsSet' || event.type === 'NodeTaintsSet' ? `${event.type} (source ${event.data.source})` : event.type;
    return { ok: false, reason: `${what} on ${quoteSubject(subject)}: it belongs on ${family === 'cmd' || family === 'hb' ? `${family}.…` : `ev.${family}.…`}` };
  }
  const node = nodeToken(subject);
  if (node === UNREADABLE) return { ok: false, reason: `${event.type} on ${quoteSubject(subject)}: the subject's node token is unreadable` };
  if (authorMatchesSubject(event, node)) return { ok: true };
  return { ok: false, reason: `${event.type} on ${quoteSubject(subject)} names another node than its subject` };
}
