// labels.FormatLabels as kubectl prints a label map in a cell: `k=v,k2=v2`, keys sorted,
// `<none>` when empty.

import type { Labels } from '../model/types.js';

export function formatLabels(labels: Labels | undefined): string {
  const keys = Object.keys(labels ?? {}).sort(byCodeUnit);
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/** Go's sort.Strings order (bytewise for ASCII), not the locale's. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
