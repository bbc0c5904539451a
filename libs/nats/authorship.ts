// Who may say what: a node-scoped event must name the node its subject names, so an agent
// cannot speak for another node through a payload (subject permissions pin the subject).

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
  if (t[0] === 'ev' && (t[1] === 'node' || t[1] === 'life') && t.length === 3) return read(t[2]!);
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

export function checkAuthor(subject: string, event: AnyEvent): { ok: true } | { ok: false; reason: string } {
  const node = nodeToken(subject);
  if (node === UNREADABLE) return { ok: false, reason: `${event.type} on ${quoteSubject(subject)}: the subject's node token is unreadable` };
  if (authorMatchesSubject(event, node)) return { ok: true };
  return { ok: false, reason: `${event.type} on ${quoteSubject(subject)} names another node than its subject` };
}
