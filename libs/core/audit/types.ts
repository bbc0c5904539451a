// The audit's public shapes: a break, the report, the options, and the audit as the fold drives it.

import type { Envelope } from '../../events/types.js';
import type { State } from '../state.js';
import type { BreakKind } from './kinds.js';

/** One break of an invariant. `seqs` are log sequences, ascending; `ds` is `namespace/name`. */
export interface AuditBreak {
  readonly kind: BreakKind;
  readonly ds?: string;
  readonly node?: string;
  readonly seqs: readonly number[];
  readonly message: string;
}

export interface AuditReport {
  /** The audited range: the first and last log positions judged (0/0 when none was). */
  readonly range: { readonly fromSeq: number; readonly toSeq: number };
  /** Messages read in the range (events folded plus messages set aside). */
  readonly events: number;
  readonly breaks: readonly AuditBreak[];
}

export interface AuditOptions {
  /** Slot count of the topology (the fold records each DaemonSet's slot). */
  readonly slots: number;
  /** Judge from this sequence on; earlier events are folded but not judged. */
  readonly sinceSeq?: number;
  /** Judge from the first message at or after this stream time (ms) on. */
  readonly sinceMs?: number;
  /** Only breaks of this DaemonSet (`namespace/name`); SequenceGap breaks are kept (a gap may hide its events). */
  readonly ds?: string;
  /** A rollout idle this long (log time, ms) to the end of the log, with no recorded reason, is stalled (default 60 s). */
  readonly stallAfterMs?: number;
}

export interface Audit {
  /** The state folded so far (the audit owns it). */
  readonly state: State;
  /** Folds one envelope, in log order, and judges it. */
  observe(env: Envelope): void;
  /** A position of the log whose message was set aside (undecodable, invalid): seen, so not a gap. */
  skip(seq: number, timeMs: number): void;
  /**
   * The breaks found so far, plus the stalled rollouts at the end of what was observed. `endSeq`,
   * the log's last sequence when it was read: positions after the last message seen up to it
   * are missing too (messages deleted at the tail).
   */
  finish(endSeq?: number): AuditReport;
}
