// How many messages a consumer set aside, by class of reason: a bounded set of counters a
// service can log at a bounded rate (the full reasons go with each copy to the dead-letter
// stream). Classes, not reason texts, so a flood of distinct hostile payloads cannot grow it.

/**
 * - `not-msgpack`: the bytes are not one MessagePack value (codec `not MessagePack: …`);
 * - `not-event`: not the `{ type, v, data }` envelope (`event…: expected …`);
 * - `unknown-type`: a type this build does not know (`event.type: unknown event type …`);
 * - `unsupported-version`: a known type at a version with no upcaster (`T: unsupported version …`);
 * - `invalid`: a known type and version whose data fails validation (`T v1: data.… : …`);
 * - `wrong-author`: a node-scoped event on another node's subject, or on a subject whose node token is unreadable (authorship);
 * - `wrong-subject`: an event on a subject family it does not belong to (a command on a pod-report subject, an admin's cordon on an agent's node subject);
 * - `wrong-stream`: a valid event that does not belong on this stream (a Heartbeat on the log);
 * - `other`: anything else (a reason this table does not know yet).
 */
export type RejectClass =
  | 'not-msgpack'
  | 'not-event'
  | 'unknown-type'
  | 'unsupported-version'
  | 'invalid'
  | 'wrong-author'
  | 'wrong-subject'
  | 'wrong-stream'
  | 'other';

export const REJECT_CLASSES: readonly RejectClass[] = [
  'not-msgpack',
  'not-event',
  'unknown-type',
  'unsupported-version',
  'invalid',
  'wrong-author',
  'wrong-subject',
  'wrong-stream',
  'other',
];

/** The class of a reason produced by decodeEvent / decodeLogMessage. Pure. */
export function classifyReason(reason: string): RejectClass {
  if (reason.startsWith('not MessagePack')) return 'not-msgpack';
  if (reason.startsWith('event.type: unknown event type')) return 'unknown-type';
  if (/^event(\.(type|v|data))?: /.test(reason)) return 'not-event';
  if (/^[A-Za-z]+: unsupported version /.test(reason)) return 'unsupported-version';
  if (/^[A-Za-z]+ v\d+: data/.test(reason)) return 'invalid';
  if (/^[A-Za-z]+ on .*?(?: names another node than its subject|: the subject's node token is unreadable)$/s.test(reason)) return 'wrong-author';
  if (/^[A-Za-z]+(?: \(source [a-z]+\))? on .*: it belongs on (?:s\.<slot>\.[a-z]+|g\.[a-z]+|hb)\.…$/s.test(reason)) return 'wrong-subject';
  if (reason === 'Heartbeat does not belong on the log') return 'wrong-stream';
  return 'other';
}

export interface RejectCounters {
  /** Counts one rejection; returns its class. */
  count(reason: string): RejectClass;
  /** Rejections so far (since creation), by class; classes never seen are left out. */
  snapshot(): Readonly<Partial<Record<RejectClass, number>>>;
  /** Rejections so far, all classes. */
  total(): number;
}

export function createRejectCounters(): RejectCounters {
  const counts = new Map<RejectClass, number>();
  let total = 0;
  return {
    count(reason) {
      const cls = classifyReason(reason);
      counts.set(cls, (counts.get(cls) ?? 0) + 1);
      total++;
      return cls;
    },
    snapshot() {
      const out: Partial<Record<RejectClass, number>> = {};
      for (const cls of REJECT_CLASSES) {
        const n = counts.get(cls);
        if (n !== undefined) out[cls] = n;
      }
      return out;
    },
    total: () => total,
  };
}
