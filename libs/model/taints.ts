// Taints and tolerations with Kubernetes semantics (k8s.io/api/core/v1 toleration.go,
// component-helpers/scheduling/corev1 FindMatchingUntoleratedTaint) and kubectl's
// `taint` argument form (kubectl/pkg/cmd/taint parseTaints).

import type { Taint, TaintEffect, Toleration } from './types.js';
import { isQualifiedName, isValidLabelValue } from './label-syntax.js';

export const TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function isTaintEffect(value: unknown): value is TaintEffect {
  return typeof value === 'string' && (TAINT_EFFECTS as readonly string[]).includes(value);
}

/**
 * Toleration.ToleratesTaint: an empty effect matches every effect, an empty key matches every
 * key, operator Exists matches any value, Equal (the default) compares values.
 */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case undefined:
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** TolerationsTolerateTaint. */
export function tolerationsTolerate(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => tolerates(t, taint));
}

/**
 * FindMatchingUntoleratedTaint: the first taint whose effect is in `effects` that no toleration
 * tolerates, or undefined.
 */
export function findUntoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  effects: readonly TaintEffect[] = TAINT_EFFECTS,
): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerationsTolerate(tolerations, taint));
}

/** `{key: value}` as the scheduler prints a taint in its reasons. */
export function formatTaint(taint: Taint): string {
  return `{${taint.key}: ${taint.value ?? ''}}`;
}

/** A taint to remove: the key, and the effect when the argument named one (otherwise every effect). */
export interface TaintRemoval {
  readonly key: string;
  readonly effect?: TaintEffect;
}

export type TaintArg =
  | { readonly ok: true; readonly remove: false; readonly taint: Taint }
  | { readonly ok: true; readonly remove: true; readonly taint: TaintRemoval }
  | { readonly ok: false; readonly error: string };

function effectError(effect: string): string {
  return `invalid taint effect: ${effect}, unsupported taint effect`;
}

/**
 * kubectl's taint argument: `KEY[=VALUE]:EFFECT` adds a taint; `KEY[:EFFECT]-` removes the
 * taints with that key (and effect). Error texts are kubectl's.
 */
export function parseTaintArg(arg: string): TaintArg {
  if (arg.endsWith('-')) {
    const spec = arg.slice(0, -1);
    const colon = spec.indexOf(':');
    const key = colon === -1 ? spec : spec.slice(0, colon);
    const effect = colon === -1 ? '' : spec.slice(colon + 1);
    if (effect !== '' && !isTaintEffect(effect)) return { ok: false, error: effectError(effect) };
    const errs = isQualifiedName(key);
    if (errs.length > 0) return { ok: false, error: `invalid taint spec: ${arg}, ${errs.join('; ')}` };
    return { ok: true, remove: true, taint: isTaintEffect(effect) ? { key, effect } : { key } };
  }
  const parts = arg.split(':');
  if (parts.length !== 2) return { ok: false, error: `invalid taint spec: ${arg}` };
  const [kv = '', effect = ''] = parts;
  if (!isTaintEffect(effect)) return { ok: false, error: effectError(effect) };
  const kvParts = kv.split('=');
  if (kvParts.length > 2) return { ok: false, error: `invalid taint spec: ${arg}` };
  const [key = '', value] = kvParts;
  if (value !== undefined) {
    const errs = isValidLabelValue(value);
    if (errs.length > 0) return { ok: false, error: `invalid taint spec: ${arg}, ${errs.join('; ')}` };
  }
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) return { ok: false, error: `invalid taint spec: ${arg}, ${keyErrs.join('; ')}` };
  const taint: Taint = value !== undefined && value !== '' ? { key, value, effect } : { key, effect };
  return { ok: true, remove: false, taint };
}
