// Who may say what. Subject permissions (libs/topology/roles.ts) decide who may publish on a
// subject; this decides what may be said there: each event type belongs to one subject family
// (an agent's `g.node.<n>` carries only what an agent says about itself, never an admin's
// cordon or taints, and `s.<slot>.pod` never a command), and a node-scoped event must name the node
// its subject names, so no one speaks for another node through a payload. Both facts come from
// the event table (libs/events/event-table.ts); subjects are read by libs/topology.

import { eventFamily } from '../events/event-table.js';
import type { AnyEvent } from '../events/types.js';
import { authorMatchesSubject } from '../events/validate.js';
import { unescapeToken } from '../topology/escape.js';
import { subjectFamilyOf, subjectFamilyPrefix, subjectNodeToken } from '../topology/names.js';

/** A subject's node token could not be read (a malformed escape): nothing may be filed there. */
const UNREADABLE = Symbol('unreadable');

/** The node a subject is scoped to (libs/topology subjectNodeToken, unescaped). */
function nodeToken(subject: string): string | undefined | typeof UNREADABLE {
  const token = subjectNodeToken(subject);
  if (token === undefined) return undefined;
  try {
    return unescapeToken(token);
  } catch {
    return UNREADABLE;
  }
}

export function subjectNode(subject: string): string | undefined {
  const node = nodeToken(subject);
  return node === UNREADABLE ? undefined : node;
}

/** A subject quoted safely for a reason (it goes into a NATS header and a terminal). */
function quoteSubject(subject: string): string {
  return JSON.stringify(subject.slice(0, 200)).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function checkAuthor(subject: string, event: AnyEvent): { ok: true } | { ok: false; reason: string } {
  const family = eventFamily(event);
  const actual = subjectFamilyOf(subject);
  if (family !== actual) {
    const what = event.type === 'NodeLabelsSet' || event.type === 'NodeTaintsSet' ? `${event.type} (source ${event.data.source})` : event.type;
    return { ok: false, reason: `${what} on ${quoteSubject(subject)}: it belongs on ${subjectFamilyPrefix(family)}.…` };
  }
  const node = nodeToken(subject);
  if (node === UNREADABLE) return { ok: false, reason: `${event.type} on ${quoteSubject(subject)}: the subject's node token is unreadable` };
  if (authorMatchesSubject(event, node)) return { ok: true };
  return { ok: false, reason: `${event.type} on ${quoteSubject(subject)} names another node than its subject` };
}
