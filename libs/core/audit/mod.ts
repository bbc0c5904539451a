// The public face of the audit (`dsctl audit`): fold a log, judge the invariants the system
// promises, report each break with the log sequences that show it. PURE.
//
//   kinds.ts         the closed union of break kinds and what each means
//   types.ts         a break, the report, the options, the audit
//   create-audit.ts  the fold driver: createAudit (observe, skip, finish) and auditLog
//   range.ts         the audited range and SequenceGap
//   commands.ts      StaleEpochApplied and CommandAppliedTwice (commands, epochs, agents' answers)
//   live-pods.ts     TwoLivePods
//   budget.ts        BudgetExceeded (and the rolling-update bookkeeping)
//   stalls.ts        RolloutStalled
//   view.ts          lookups on the folded state the checkers share

export type { BreakKind } from './kinds.js';
export { BREAK_KINDS, breakMeaning } from './kinds.js';
export type { Audit, AuditBreak, AuditOptions, AuditReport } from './types.js';
export { auditLog, createAudit } from './create-audit.js';
export { DEFAULT_STALL_AFTER_MS, PAUSED_ANNOTATION } from './stalls.js';
