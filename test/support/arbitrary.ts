// A small seeded generator for property-based tests (no fast-check here): mulberry32 random
// numbers, random JSON-ish values, hostile strings and numbers, and mutations of valid samples.
// Every run with the same seed produces the same inputs, so a failure names its seed and index
// and reproduces.

import { mulberry32 } from '../../libs/agent-runtime/prng.js';

/** Re-exported so a fuzzer takes its generator and its arbitraries from one place. */
export { mulberry32 };
export type Rng = () => number;

/** The seeds every fuzzer runs; a failure message names the seed and the input's index. */
export const FUZZ_SEEDS: readonly number[] = [0x5eed, 1, 42, 0xdecaf, 20_260_102];


export function intBelow(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[intBelow(rng, items.length)]!;
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = intBelow(rng, 256);
  return bytes;
}

/** Keys that reach prototypes when code assigns them naively. */
export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

/**
 * Strings that have broken parsers, subjects, headers and terminals: subject wildcards and
 * separators, escapes, white space, control and format characters, lone surrogates, non-BMP
 * characters, prototype keys, boundary lengths.
 */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '.',
  '..',
  '*',
  '>',
  'a.b',
  'a.*.>',
  'g.node.>',
  'a b',
  '\t',
  '\r\n',
  'a\nb',
  '%',
  '%2E',
  '%ZZ',
  '%C3',
  '-',
  '_',
  'node-1',
  'ip-10-0-0-1.ec2.internal',
  'Node_1',
  'ü',
  'naïve',
  '日本語',
  'Ελληνικά',
  '😀',
  '👩‍👩‍👧',
  '\u0000',
  '\u0001',
  '\u001b[31mred\u001b[0m',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u2028',
  '\u2029',
  '\u202e',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udc00',
  'a\ud83db',
  ...PROTOTYPE_KEYS,
  'x'.repeat(63),
  'x'.repeat(64),
  'x'.repeat(253),
  'x'.repeat(254),
  'é'.repeat(200),
];

export const HOSTILE_NUMBERS: readonly number[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  -1,
  0.5,
  -0.5,
  1e-300,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_VALUE,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER,
];

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:%*> ';

/** A short random string: mostly name-like ASCII, sometimes a hostile piece or a random code unit. */
export function randomString(rng: Rng, maxLength = 24): string {
  if (chance(rng, 0.25)) return pick(rng, HOSTILE_STRINGS);
  const length = intBelow(rng, maxLength + 1);
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = rng();
    if (r < 0.85) out += ASCII[intBelow(rng, ASCII.length)]!;
    else if (r < 0.9) out += String.fromCharCode(intBelow(rng, 0x20));
    else if (r < 0.97) out += String.fromCodePoint(0xa0 + intBelow(rng, 0x2fff));
    else out += String.fromCharCode(0xd800 + intBelow(rng, 0x800));
  }
  return out;
}

/** A name that may or may not be valid: hostile, random, or DNS-1123-ish. */
export function randomName(rng: Rng): string {
  const r = rng();
  if (r < 0.3) return pick(rng, HOSTILE_STRINGS);
  if (r < 0.6) return randomString(rng, 40);
  const labels: string[] = [];
  const n = 1 + intBelow(rng, 3);
  for (let i = 0; i < n; i++) {
    let label = '';
    const len = 1 + intBelow(rng, 12);
    for (let j = 0; j < len; j++) label += 'abcdefghijklmnopqrstuvwxyz0123456789-'[intBelow(rng, 37)]!;
    labels.push(label);
  }
  return labels.join('.');
}

export function randomNumber(rng: Rng): number | bigint {
  const r = rng();
  if (r < 0.35) return pick(rng, HOSTILE_NUMBERS);
  if (r < 0.4) return pick(rng, [2n ** 60n, -(2n ** 63n), 7n]);
  if (r < 0.7) return intBelow(rng, 1000);
  return (rng() - 0.5) * 10 ** intBelow(rng, 20);
}

/** Defines an own enumerable property, as JSON.parse does, even for `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A random JSON-ish value (plus NaN, Infinity and BigInt), at most `depth` levels deep. */
export function randomJson(rng: Rng, depth = 4): unknown {
  const r = rng();
  if (depth <= 0 || r < 0.45) {
    const s = rng();
    if (s < 0.1) return null;
    if (s < 0.15) return undefined;
    if (s < 0.25) return chance(rng, 0.5);
    if (s < 0.55) return randomNumber(rng);
    return randomString(rng);
  }
  if (r < 0.7) {
    const n = intBelow(rng, 5);
    return Array.from({ length: n }, () => randomJson(rng, depth - 1));
  }
  const out: Record<string, unknown> = {};
  const n = intBelow(rng, 6);
  for (let i = 0; i < n; i++) setOwn(out, chance(rng, 0.8) ? randomString(rng, 12) : pick(rng, PROTOTYPE_KEYS), randomJson(rng, depth - 1));
  return out;
}

export type MutationKind =
  | 'drop-field'
  | 'change-type'
  | 'huge-string'
  | 'deep-nesting'
  | 'unicode'
  | 'prototype-key'
  | 'bad-number'
  | 'array-for-object'
  | 'object-for-array'
  | 'big-map'
  | 'hostile-name'
  | 'random-value';

export const MUTATION_KINDS: readonly MutationKind[] = [
  'drop-field',
  'change-type',
  'huge-string',
  'deep-nesting',
  'unicode',
  'prototype-key',
  'bad-number',
  'array-for-object',
  'object-for-array',
  'big-map',
  'hostile-name',
  'random-value',
];

export interface Mutated {
  readonly value: unknown;
  readonly kind: MutationKind;
  /** Where: keys and indices from the root, joined with `.`. */
  readonly path: string;
}

type Node = Record<string, unknown> | unknown[];

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null;
}

function isPlain(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Every path below `root` (objects and arrays walked), depth first, the root itself first. */
function pathsOf(root: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    out.push(path);
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
    else if (isNode(v) && isPlain(v)) for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], [...path, k]);
  };
  walk(root, []);
  return out;
}

function getAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

function nest(rng: Rng, inner: unknown, levels: number): unknown {
  let v = inner;
  for (let i = 0; i < levels; i++) v = chance(rng, 0.5) ? [v] : { n: v };
  return v;
}

function bigMap(rng: Rng): Record<string, string> {
  // Just past the validators' 1000 entries; 10,000 rarely (~5 ms a round trip; fixed cases cover it).
  const n = chance(rng, 0.02) ? 10_000 : 1001;
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`key-${i}`] = 'v';
  return out;
}

function replacementFor(rng: Rng, kind: MutationKind, old: unknown): unknown {
  switch (kind) {
    case 'change-type':
      return pick(rng, [42, 'x', true, null, [], {}, 1.5, new Uint8Array([1, 2]), new Date(0)]);
    case 'huge-string':
      return 'x'.repeat(chance(rng, 0.02) ? 1_000_000 : pick(rng, [64, 254, 318, 65_537]));
    case 'deep-nesting':
      return nest(rng, old, pick(rng, [65, 200, 1000]));
    case 'unicode':
      return pick(rng, HOSTILE_STRINGS.filter((s) => /[^\x20-\x7e]/.test(s)));
    case 'bad-number':
      return randomNumber(rng);
    case 'array-for-object':
      return isNode(old) && !Array.isArray(old) ? Object.values(old) : [old];
    case 'object-for-array':
      return Array.isArray(old) ? Object.fromEntries(old.map((v, i) => [String(i), v])) : { value: old };
    case 'big-map':
      return bigMap(rng);
    case 'hostile-name':
      return randomName(rng);
    case 'random-value':
      return randomJson(rng, 3);
    case 'drop-field':
    case 'prototype-key':
      return old;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/**
 * A deep copy of `sample` with one random mutation at one random place (`kind` chooses which,
 * else random). Prototype keys are own properties (`{"__proto__": …}` as JSON.parse makes them),
 * holding a value that would pollute if assigned naively.
 */
/** The kinds `mutate` picks from by default: a big map costs a hundred small mutations, so it is rarer. */
const DEFAULT_KINDS: readonly MutationKind[] = [...MUTATION_KINDS.filter((k) => k !== 'big-map'), ...MUTATION_KINDS.filter((k) => k !== 'big-map' && k !== 'huge-string')];

export function mutate(rng: Rng, sample: unknown, kind: MutationKind = chance(rng, 0.01) ? 'big-map' : pick(rng, DEFAULT_KINDS)): Mutated {
  const root: { value: unknown } = { value: structuredClone(sample) };
  const paths = pathsOf(root.value).map((p) => ['value', ...p]);
  const below = paths.filter((p) => p.length > 1);
  // Nothing below the root (an earlier mutation left a scalar): replace the root instead.
  if ((kind === 'drop-field' || kind === 'prototype-key') && below.length === 0) return mutate(rng, sample, 'random-value');
  const path = pick(rng, kind === 'drop-field' || kind === 'prototype-key' ? below : paths);
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1]!;
  const parent = getAt(root, parentPath) as Record<string | number, unknown>;
  const shown = path.slice(1).join('.');
  if (kind === 'drop-field') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return { value: root.value, kind, path: shown };
  }
  if (kind === 'prototype-key') {
    const target = isNode(parent[last]) && !Array.isArray(parent[last]) ? (parent[last] as Record<string, unknown>) : (parent as Record<string, unknown>);
    setOwn(target, pick(rng, PROTOTYPE_KEYS), { polluted: true, kind: 'DaemonSet', node: 'node-a' });
    return { value: root.value, kind, path: shown };
  }
  parent[last] = replacementFor(rng, kind, parent[last]);
  return { value: root.value, kind, path: shown };
}
