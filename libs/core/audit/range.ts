// The audited range and SequenceGap: which log positions were seen, which are judged (--since),
// and the positions missing between two messages or at the log's tail.

import type { AuditBreak, AuditOptions, AuditReport } from './types.js';

export interface LogRange {
  /** Whether judging has begun: the positions seen since are inside the range. */
  readonly judging: boolean;
  /** The highest log position seen. */
  readonly lastSeen: number;
  /** The latest stream time seen (ms): the audit's only clock. */
  readonly lastSeenMs: number;
  /** Marks a log position seen; returns the gap of the sequences missing before it, if any. */
  position(seq: number, timeMs: number): AuditBreak | undefined;
  /**
   * The gap of the positions after the last one seen up to `endSeq` (messages deleted at the tail),
   * if it lies inside the range.
   */
  tail(endSeq: number | undefined): AuditBreak | undefined;
  /** The range judged so far and the messages read in it. */
  summary(): Pick<AuditReport, 'range' | 'events'>;
}

/** `start`: the position and stream time of a state the audit starts from (its earlier positions are not gaps). */
export function logRange(opts: Pick<AuditOptions, 'sinceSeq' | 'sinceMs'>, start?: { readonly seq: number; readonly timeMs: number }): LogRange {
  let judging = false;
  let fromSeq = 0;
  let toSeq = 0;
  let events = 0;
  let lastSeen = start?.seq ?? 0;
  let lastSeenMs = start?.timeMs ?? 0;

  /**
   * The gap of the positions after `lastSeen` up to `hi` (the message after it at `next`, or the
   * log's end), if it lies inside the range; it widens the range to cover it.
   */
  const gapBefore = (hi: number, next: number | undefined, wasJudging: boolean, nowJudging: boolean): AuditBreak | undefined => {
    const lo = Math.max(lastSeen + 1, opts.sinceSeq ?? 0);
    // With a time bound the missing messages' times are unknown: only gaps inside the range count.
    const inside = opts.sinceMs !== undefined ? wasJudging : nowJudging && lo <= hi;
    if (!inside || lo > hi) return undefined;
    if (lo < fromSeq || fromSeq === 0) fromSeq = lo;
    toSeq = Math.max(toSeq, hi);
    const n = hi - lo + 1;
    const where = next !== undefined ? `between ${lastSeen} and ${next}` : `after ${lastSeen}, at the end of the log`;
    return {
      kind: 'SequenceGap',
      seqs: lo === hi ? [lo] : [lo, hi],
      message:
        `${n} message${n === 1 ? '' : 's'} missing from the log: seq ${lo === hi ? lo : `${lo}..${hi}`} (${where}); ` +
        'deleted from the stream or lost with a server: every state folded from this log lacks what it held',
    };
  };

  return {
    get judging() {
      return judging;
    },
    get lastSeen() {
      return lastSeen;
    },
    get lastSeenMs() {
      return lastSeenMs;
    },
    position(seq: number, timeMs: number): AuditBreak | undefined {
      const wasJudging = judging;
      if (!judging && seq >= (opts.sinceSeq ?? 0) && timeMs >= (opts.sinceMs ?? Number.NEGATIVE_INFINITY)) {
        judging = true;
        fromSeq = seq;
      }
      const gap = lastSeen > 0 && seq > lastSeen + 1 ? gapBefore(seq - 1, seq, wasJudging, judging) : undefined;
      if (seq > lastSeen) {
        lastSeen = seq;
        lastSeenMs = Math.max(lastSeenMs, timeMs);
      }
      if (judging) {
        events++;
        toSeq = Math.max(toSeq, seq);
      }
      return gap;
    },
    tail(endSeq: number | undefined): AuditBreak | undefined {
      // Inside the range when the last message seen was (or, with a sequence bound, when the
      // missing positions reach it).
      const tailJudging = judging || (opts.sinceMs === undefined && endSeq !== undefined && endSeq >= (opts.sinceSeq ?? 0));
      return endSeq !== undefined && lastSeen > 0 && endSeq > lastSeen ? gapBefore(endSeq, undefined, judging, tailJudging) : undefined;
    },
    summary(): Pick<AuditReport, 'range' | 'events'> {
      return { range: { fromSeq, toSeq }, events };
    },
  };
}
