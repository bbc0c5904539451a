// The pod-template hash behind `controller-revision-hash` and revision names, after Kubernetes'
// controller.ComputeHash: FNV-32a over the template, the collision count mixed in, and the decimal
// hash rendered with rand.SafeEncodeString. Kubernetes hashes a Go deep-print of the struct; we
// hash a canonical JSON (keys sorted, undefined members dropped) so the hash does not depend on
// key order.

import type { PodTemplateSpec } from '../model/types.js';

/** rand.SafeEncodeString's alphabet: no vowels, no 0/1/3, so no words and no look-alikes. */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted; undefined members and functions dropped as JSON.stringify drops them. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function utf8Bytes(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return out;
}

/** FNV-1a, 32 bits, continuing from `hash`. */
export function fnv32a(bytes: Iterable<number>, hash = 0x811c9dc5): number {
  let h = hash >>> 0;
  for (const b of bytes) {
    h ^= b & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped to SAFE_ALPHABET[code % 27]. */
export function safeEncodeString(text: string): string {
  let out = '';
  for (const ch of text) out += SAFE_ALPHABET[(ch.codePointAt(0) ?? 0) % SAFE_ALPHABET.length];
  return out;
}

/**
 * ComputeHash(template, collisionCount). A collision count of 0 is treated as Kubernetes treats an
 * unset status.collisionCount (nothing mixed in), so hashes only change once a collision happened;
 * otherwise it is mixed in as 8 little-endian bytes, as Kubernetes does.
 */
export function templateHash(template: PodTemplateSpec, collisionCount = 0): string {
  let h = fnv32a(utf8Bytes(canonicalJson(template)));
  if (collisionCount !== 0) {
    const c = collisionCount >>> 0;
    h = fnv32a([c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, (c >>> 24) & 0xff, 0, 0, 0, 0], h);
  }
  return safeEncodeString(String(h));
}
