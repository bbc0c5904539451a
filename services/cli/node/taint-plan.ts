// `dsctl taint`'s decision for one node, from the folded node: kubectl's updateTaints and
// reorganizeTaints (kubectl/pkg/cmd/taint) applied to the admin-owned taints only. Taints the
// node's agent owns (its pressure conditions) and the ones derived from Ready and cordon are
// shown on the node but are not an admin's to remove. No I/O.

import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, effectiveTaints } from '../../../libs/core/node-taints.js';
import type { NodeRecord } from '../../../libs/core/state.js';
import type { TaintRemoval } from '../../../libs/model/taints.js';
import type { Taint } from '../../../libs/model/types.js';

export type TaintOperation = 'tainted' | 'untainted' | 'modified';

export type TaintPlan =
  | { readonly ok: true; readonly admin: Taint[]; readonly operation: TaintOperation; readonly changed: boolean }
  | { readonly ok: false; readonly error: string };

/** Taint.ToString: `key=value:effect`, `key:effect`, `key`. */
export function taintToString(t: { readonly key: string; readonly value?: string; readonly effect?: string }): string {
  const value = t.value ?? '';
  if (!t.effect) return value === '' ? t.key : `${t.key}=${value}:`;
  return value === '' ? `${t.key}:${t.effect}` : `${t.key}=${value}:${t.effect}`;
}

function matches(t: Taint, r: TaintRemoval): boolean {
  return t.key === r.key && (r.effect === undefined || t.effect === r.effect);
}

/** Why a taint the admin cannot remove is there. */
function ownerError(node: NodeRecord, key: string): string {
  if (key === TAINT_UNSCHEDULABLE && node.unschedulable) return `error: taint ${key} is set by cordon; run dsctl uncordon ${node.name}`;
  if (key === TAINT_NOT_READY || key === TAINT_UNREACHABLE) return `error: taint ${key} is set from the node's Ready condition; it goes when the node is Ready`;
  return `error: taint ${key} is set by the node's agent from its conditions`;
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several in brackets. */
function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`;
}

export function planTaints(node: NodeRecord, add: readonly Taint[], remove: readonly TaintRemoval[], overwrite: boolean): TaintPlan {
  const shown = effectiveTaints(node);
  const admin = node.taints.admin ?? [];
  if (!overwrite) {
    // checkIfTaintsAlreadyExists, against every taint the node shows.
    const exists = add.filter((t) => shown.some((o) => o.key === t.key && o.effect === t.effect)).map((t) => t.key);
    if (exists.length > 0) {
      return { ok: false, error: `error: node ${node.name} already has ${exists.join(',')} taint(s) with same effect(s) and --overwrite is false` };
    }
  }
  for (const r of remove) {
    if (!admin.some((t) => matches(t, r)) && shown.some((t) => matches(t, r))) return { ok: false, error: ownerError(node, r.key) };
  }
  // reorganizeTaints: the taints to add, then the old ones they do not replace.
  const next: Taint[] = [...add];
  for (const old of admin) if (!next.some((t) => t.key === old.key && t.effect === old.effect)) next.push(old);
  const added = admin.length !== next.length;
  const errors: string[] = [];
  let deleted = false;
  for (const r of remove) {
    const before = next.length;
    const kept = next.filter((t) => !matches(t, r));
    next.splice(0, next.length, ...kept);
    deleted = next.length < before;
    if (!deleted) errors.push(`taint ${JSON.stringify(taintToString(r))} not found`);
  }
  if (errors.length > 0) return { ok: false, error: `error: ${aggregate(errors)}` };
  const operation: TaintOperation = (added && deleted) || overwrite ? 'modified' : added ? 'tainted' : 'untainted';
  const same = next.length === admin.length && next.every((t) => admin.some((o) => o.key === t.key && o.effect === t.effect && (o.value ?? '') === (t.value ?? '')));
  return { ok: true, admin: next, operation, changed: !same };
}
