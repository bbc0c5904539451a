// CONDITIONS_READINGS_FILE: a test and simulation hook. A JSON file whose signals replace the
// machine's own readings, re-read on every check, so a test can put a node under pressure:
//
//   { "memory": { "available": "50Mi", "capacity": "8Gi" },
//     "nodefs": { "available": "1Gi" },
//     "pids":   { "available": 100, "capacity": 32768 } }
//
// Amounts are numbers or quantities (bytes for memory and nodefs, a count for pids). A signal or
// a capacity left out keeps the machine's reading. A missing file means "no override".

import { readFile } from 'node:fs/promises';
import { parseQuantity, type NodeReadings, type SignalReading } from '../../../libs/core/node-conditions.js';

export type ReadingsOverride = { readonly [K in keyof NodeReadings]?: Partial<SignalReading> };

export type ReadingsFileResult =
  | { readonly ok: true; readonly override: ReadingsOverride }
  | { readonly ok: false; readonly error: string };

const SIGNALS = ['memory', 'nodefs', 'pids'] as const;

function amount(value: unknown, where: string): number | string {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const q = parseQuantity(value);
    if (q !== undefined) return q;
  }
  return `${where}: expected a non-negative number or a quantity such as 50Mi, not ${JSON.stringify(value)}`;
}

/** Validates the file's text; unknown keys are errors so a typo does not silently do nothing. */
export function parseReadingsOverride(text: string): ReadingsFileResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, error: 'expected a JSON object' };
  const out: Record<string, Partial<SignalReading>> = {};
  for (const [signal, body] of Object.entries(doc)) {
    if (!(SIGNALS as readonly string[]).includes(signal)) return { ok: false, error: `unknown signal ${JSON.stringify(signal)}: expected ${SIGNALS.join(', ')}` };
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: `${signal}: expected an object` };
    const reading: { available?: number; capacity?: number } = {};
    for (const [field, value] of Object.entries(body as Record<string, unknown>)) {
      if (field !== 'available' && field !== 'capacity') return { ok: false, error: `${signal}.${field}: expected available or capacity` };
      const n = amount(value, `${signal}.${field}`);
      if (typeof n === 'string') return { ok: false, error: n };
      reading[field] = n;
    }
    out[signal] = reading;
  }
  return { ok: true, override: out };
}

/** Reads the file; a missing file is an empty override. */
export async function readReadingsOverride(path: string): Promise<ReadingsFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, override: {} };
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  return parseReadingsOverride(text);
}

/** The machine's readings with the override's fields laid over them. */
export function overlayReadings(machine: NodeReadings, override: ReadingsOverride): NodeReadings {
  const out: { -readonly [K in keyof NodeReadings]: SignalReading } = {};
  for (const signal of SIGNALS) {
    const base = machine[signal];
    const o = override[signal];
    const available = o?.available ?? base?.available;
    const capacity = o?.capacity ?? base?.capacity;
    if (available !== undefined && capacity !== undefined) out[signal] = { available, capacity };
  }
  return out;
}
