// The closed union of the invariants the audit judges, and what a break of each means.

export type BreakKind = 'TwoLivePods' | 'BudgetExceeded' | 'CommandAppliedTwice' | 'StaleEpochApplied' | 'RolloutStalled' | 'SequenceGap';

export const BREAK_KINDS: readonly BreakKind[] = ['TwoLivePods', 'BudgetExceeded', 'CommandAppliedTwice', 'StaleEpochApplied', 'RolloutStalled', 'SequenceGap'];

/** What a break of each kind means, for help texts. */
export function breakMeaning(kind: BreakKind): string {
  switch (kind) {
    case 'TwoLivePods':
      return 'more than one running pod of a DaemonSet on one node (with maxSurge > 0: two, of different revisions, not terminating)';
    case 'BudgetExceeded':
      return 'the rolling update (RollingUpdate, SurgeReplaced) deleted an available pod while maxUnavailable nodes were already unavailable';
    case 'CommandAppliedTwice':
      return 'one PodCreate command id acted on twice by agents (two pods, or a deleted pod run again)';
    case 'StaleEpochApplied':
      return "an agent acted on a command whose epoch was already superseded for its slot (ShardAcquired, or a newer command to that node)";
    case 'RolloutStalled':
      return 'a rollout incomplete at the end of the log and idle longer than --stall-after, with no recorded reason';
    case 'SequenceGap':
      return 'log sequences missing between two messages (deleted or lost)';
    default:
      return assertNever(kind);
  }
}

/** Closes a `switch` over a union (break kinds here, event types in the fold). */
export function assertNever(x: never): never {
  throw new Error(`unhandled break kind ${JSON.stringify(x)}`);
}
