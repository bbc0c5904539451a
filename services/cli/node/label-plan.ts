// `dsctl label`'s decision for one node, from the folded node: kubectl's labelFunc and
// validateNoOverwrites (kubectl/pkg/cmd/label) applied to the admin-owned labels, which overlay
// the agent's (NODE_LABELS and the kubelet-like defaults). No I/O.

import { effectiveLabels } from '../../../libs/core/evolve.js';
import type { NodeRecord } from '../../../libs/core/state.js';
import { isQualifiedName } from '../../../libs/model/label-syntax.js';
import type { FieldError, Labels } from '../../../libs/model/types.js';
import { formatFieldErrors } from '../../../libs/model/validate.js';

export type LabelMessage = 'labeled' | 'unlabeled' | 'not labeled';

export type LabelPlan =
  | {
      readonly ok: true;
      readonly admin: Labels;
      readonly message: LabelMessage;
      readonly changed: boolean;
      /** `label "KEY" not found.` for removals of labels the node does not have. */
      readonly warnings: string[];
    }
  | { readonly ok: false; readonly error: string };

function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`;
}

export function planLabels(node: NodeRecord, set: Readonly<Record<string, string>>, remove: readonly string[], overwrite: boolean): LabelPlan {
  const before = node.labels;
  const admin: Record<string, string> = { ...(node.labelsBySource.admin ?? {}) };
  const agent = node.labelsBySource.agent ?? {};
  if (!overwrite) {
    const clashes = Object.entries(set)
      .filter(([k, v]) => before[k] !== undefined && before[k] !== v)
      .map(([k]) => `'${k}' already has a value (${before[k] ?? ''}), and --overwrite is false`);
    if (clashes.length > 0) return { ok: false, error: `error: ${aggregate(clashes)}` };
  }
  const warnings: string[] = [];
  for (const key of remove) {
    if (key in admin) continue;
    if (key in agent) return { ok: false, error: `error: label ${key} is set by the node's agent (NODE_LABELS or its defaults); change it there` };
    warnings.push(`label ${JSON.stringify(key)} not found.`);
  }
  // The API server's ValidateLabels: the keys (values were checked with the arguments).
  const invalid: FieldError[] = Object.keys(set).flatMap((key) =>
    isQualifiedName(key).map((detail): FieldError => ({ field: 'metadata.labels', type: 'Invalid', value: key, detail })),
  );
  if (invalid.length > 0) return { ok: false, error: formatFieldErrors('Node', node.name, invalid) };
  Object.assign(admin, set);
  for (const key of remove) delete admin[key];
  const after = effectiveLabels({ ...node, labelsBySource: { ...node.labelsBySource, admin } });
  // updateDataChangeMsg: compares the objects' serialised forms.
  const oldText = JSON.stringify(before);
  const newText = JSON.stringify(after);
  let message: LabelMessage = 'not labeled';
  if (oldText !== newText) message = !overwrite && newText.length < oldText.length ? 'unlabeled' : 'labeled';
  const prev = node.labelsBySource.admin ?? {};
  const changed = JSON.stringify(Object.entries(prev).sort()) !== JSON.stringify(Object.entries(admin).sort());
  return { ok: true, admin, message, changed, warnings };
}
