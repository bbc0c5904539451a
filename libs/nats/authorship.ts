// Who may say what: a node-scoped event must name the node its subject names, so an agent
// cannot speak for another node through a payload (subject permissions pin the subject).

import type { AnyEvent } from '../events/types.js';
import { authorMatchesSubject } from '../events/validate.js';
import { unescapeToken } from '../topology/escape.js';

/** The node a subject is scoped to (`ev.node.<n>`, `ev.life.<n>`, `ev.pod.<slot>.<n>`, `ev.podreq.<slot>.<n>`, `cmd.<slot>.<n>`, `hb.<n>`). */
export function subjectNode(subject: string): string | undefined {
  const t = subject.split('.');
  try {
    if (t[0] === 'ev' && (t[1] === 'node' || t[1] === 'life') && t.length === 3) return unescapeToken(t[2]!);
    if (t[0] === 'ev' && (t[1] === 'pod' || t[1] === 'podreq') && t.length === 4) return unescapeToken(t[3]!);
    if (t[0] === 'cmd' && t.length === 3) return unescapeToken(t[2]!);
    if (t[0] === 'hb' && t.length === 2) return unescapeToken(t[1]!);
  } catch {
    return undefined;
  }
  return undefined;
}

export function checkAuthor(subject: string, event: AnyEvent): { ok: true } | { ok: false; reason: string } {
  const node = subjectNode(subject);
  if (authorMatchesSubject(event, node)) return { ok: true };
  return { ok: false, reason: `${event.type} on ${subject} names another node than its subject` };
}
