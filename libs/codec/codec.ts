// MessagePack in one place. Every payload on the bus goes through here: events as
// `{ type, v, data }`, snapshots as plain values. Decoding returns a result and never throws, so
// a bad payload is set aside by its consumer instead of killing it.

import { Packr } from 'msgpackr';
import type { AnyEvent } from '../events/types.js';
import { upcast } from '../events/upcast.js';
import { checkRawEvent, validateEvent } from '../events/validate.js';

export type DecodeResult =
  | { readonly ok: true; readonly event: AnyEvent }
  | { readonly ok: false; readonly reason: string };

export type ValueDecodeResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

/** How much of a decoder error message a reason keeps (it may quote the decoded data). */
const MAX_ERROR_MESSAGE = 200;

/**
 * One Packr for every payload, configured for plain data:
 * - `useRecords: false`: no record extension, so any MessagePack reader can read the log;
 * - `mapsAsObjects: true`: maps decode as plain objects (a `Map` encodes as a map and comes back
 *   as an object, so snapshot writers convert their Maps first);
 * - `int64AsType: 'number'`: 64-bit integers decode as numbers, never BigInt (validation then
 *   refuses any that is not a safe integer);
 * - `structuredClone: false`: no reference extensions (cycles), which plain data never needs.
 * Undefined values encode as the `undefined` extension and decode as undefined (absent).
 */
const PACKR_OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
} as const;

const packr = new Packr(PACKR_OPTIONS);

/** Control characters (C0, DEL, C1) and the line/paragraph separators: never raw in a reason. */
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;

/**
 * The decoder's message, bounded, with control characters escaped as `\uXXXX`: msgpackr quotes
 * what it read ("Data read, but end of buffer not reached {…}"), and reasons go into a header.
 */
function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const bounded = message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}…` : message;
  return bounded.replace(CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The payload of an event. Writers build events from typed values; consumers validate. */
export function encodeEvent(event: AnyEvent): Uint8Array {
  return packr.pack(event);
}

/**
 * Decodes, upcasts and validates one payload. Never throws. Reasons:
 * `not MessagePack: <decoder message>`, `event…` (not the `{ type, v, data }` envelope),
 * or the validation reason (`PodCreate v1: data.pod.name: expected string`).
 */
export function decodeEvent(bytes: Uint8Array): DecodeResult {
  const decoded = decodeValue(bytes);
  if (!decoded.ok) return decoded;
  const checked = checkRawEvent(decoded.value);
  if (!checked.ok) return checked;
  return validateEvent(upcast(checked.raw));
}

/**
 * Any plain value (snapshots, KV entries). Throws only for values MessagePack cannot hold.
 * A Packr keeps its output buffer for reuse, grown to the largest value it encoded: a snapshot of
 * a large fleet would pin tens of MB for good, so large values use a throwaway encoder.
 */
export function encodeValue(value: unknown): Uint8Array {
  const bytes = new Packr(PACKR_OPTIONS).pack(value);
  // Copy out of the encoder's buffer so nothing retains it.
  return bytes.byteLength > 1024 * 1024 ? Uint8Array.prototype.slice.call(bytes) : bytes;
}

/** Decodes one whole payload (trailing bytes are an error). Never throws; the value is unchecked. */
export function decodeValue(bytes: Uint8Array): ValueDecodeResult {
  try {
    const value: unknown = packr.unpack(bytes);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, reason: `not MessagePack: ${describeError(err)}` };
  }
}
