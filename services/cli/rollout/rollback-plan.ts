// kubectl's DaemonSetRollbacker.Rollback (k8s.io/kubectl/pkg/polymorphichelpers/rollback.go),
// decided on the revisions the controller keeps: which template `rollout undo` writes, or why
// it writes none. PURE.

import type { Revision } from '../../../libs/core/state.js';

export type RollbackPlan =
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'skip'; readonly message: string }
  | { readonly kind: 'write'; readonly revision: Revision };

function revisionNotFound(toRevision: number): RollbackPlan {
  return { kind: 'error', message: `unable to find specified revision ${toRevision} in history` };
}

/**
 * `history` is what `rollout history` lists. `toRevision` 0 means the previous one: the
 * second-highest revision. The skip message names `toRevision` as given (0 stays 0), as kubectl does.
 */
export function rollbackPlan(history: readonly Revision[], currentHash: string, toRevision: number): RollbackPlan {
  if (toRevision < 0 || !Number.isInteger(toRevision)) return revisionNotFound(toRevision);
  if (toRevision === 0 && history.length <= 1) return { kind: 'error', message: 'no last revision to roll back to' };
  const target =
    toRevision === 0
      ? [...history].sort((a, b) => a.revision - b.revision)[history.length - 2]
      : history.find((r) => r.revision === toRevision);
  if (!target) return revisionNotFound(toRevision);
  if (target.hash === currentHash) {
    return { kind: 'skip', message: `skipped rollback (current template already matches revision ${toRevision})` };
  }
  return { kind: 'write', revision: target };
}
