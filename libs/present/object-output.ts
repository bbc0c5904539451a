// `-o json` and `-o yaml` as kubectl prints them. kubectl handles objects as unstructured maps,
// so every object's keys come out sorted; JSON is indented by 4 spaces, YAML (sigs.k8s.io/yaml
// over go-yaml v2) by 2 with list items at their parent's indentation, no line folding, and
// YAML 1.1 quoting: strings that 1.1 would read as something else (timestamps, `yes`, `on`,
// numbers) are double-quoted, so `creationTimestamp: "2026-01-02T03:04:05Z"` as kubectl shows it.

import { stringify } from 'yaml';

/** A copy with every object's keys in sorted order (Go's encoding of map[string]interface{}). */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const v: unknown = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeysDeep(v);
    }
    return out;
  }
  return value;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(sortKeysDeep(value), null, 4)}\n`;
}

export function toYaml(value: unknown): string {
  return stringify(sortKeysDeep(value), { version: '1.1', indentSeq: false, lineWidth: 0 });
}
