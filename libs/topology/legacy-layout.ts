// The log's layout before per-slot subjects, and the names of its migration (dsctl migrate-log).
// PURE: no I/O.
//
// Old subject                      new subject
// `ev.ds.<slot>.<ns>.<name>`   ->  `s.<slot>.ds.<ns>.<name>`
// `ev.dss.<slot>.<ns>.<name>`  ->  `s.<slot>.dss.<ns>.<name>`
// `cmd.<slot>.<node>`          ->  `s.<slot>.cmd.<node>`
// `ev.pod.<slot>.<node>`       ->  `s.<slot>.pod.<node>`
// `ev.podreq.<slot>.<node>`    ->  `s.<slot>.podreq.<node>`
// `ev.clock.<slot>`            ->  `s.<slot>.clock`
// `ev.shard.<slot>`            ->  `s.<slot>.shard`
// `ev.node.<node>`             ->  `g.node.<node>`      (also nodeadm, life)
// `ev.ns.<name>`               ->  `g.ns.<name>`
// Tokens (already escaped) are carried over unchanged; a subject the old builders could not have
// written is refused with the reason, never guessed at.

import { escapeToken, unescapeToken } from './escape.js';
import { LEGACY_LOG_SUBJECTS, LOG_SUBJECTS } from './names.js';

/** What an old-layout subject becomes, or why it has no place in the new layout. */
export type LegacySubjectMapping = { readonly ok: true; readonly subject: string } | { readonly ok: false; readonly reason: string };

/** Old families under a slot, with the name tokens after the slot: `ev.<family>.<slot>.<names…>`, and `cmd.<slot>.<node>`. */
const SLOT_FAMILIES: ReadonlyMap<string, readonly string[]> = new Map([
  ['ds', ['ns', 'name']],
  ['dss', ['ns', 'name']],
  ['pod', ['node']],
  ['podreq', ['node']],
  ['clock', []],
  ['shard', []],
  ['cmd', ['node']],
]);
/** Old global families: `ev.<family>.<token>`. */
const GLOBAL_FAMILIES: ReadonlySet<string> = new Set(['node', 'nodeadm', 'life', 'ns']);

const SLOT_TOKEN = /^(0|[1-9][0-9]{0,8})$/;

function refuse(subject: string, why: string): LegacySubjectMapping {
  return { ok: false, reason: `${JSON.stringify(subject)}: ${why}` };
}

/** Why `token` is not a name the old builders escaped (escapeToken), or undefined when it is one. */
function badNameToken(token: string): string | undefined {
  if (token === '') return 'an empty token';
  let name: string;
  try {
    name = unescapeToken(token);
  } catch (err) {
    return `token ${JSON.stringify(token)} is not an escaped name (${err instanceof Error ? err.message : String(err)})`;
  }
  let again: string;
  try {
    again = escapeToken(name);
  } catch (err) {
    return `token ${JSON.stringify(token)} is not an escaped name (${err instanceof Error ? err.message : String(err)})`;
  }
  return again === token ? undefined : `token ${JSON.stringify(token)} is not how a name is escaped (escapeToken writes ${JSON.stringify(again)})`;
}

function mapSlotFamily(subject: string, family: string, rest: readonly string[]): LegacySubjectMapping {
  const wanted = SLOT_FAMILIES.get(family)!;
  const [slot, ...names] = rest;
  if (slot === undefined || names.length !== wanted.length) {
    const shape = [family === 'cmd' ? 'cmd' : `ev.${family}`, '<slot>', ...wanted.map((w) => `<${w}>`)].join('.');
    return refuse(subject, `${family} subjects have the form ${shape}`);
  }
  if (!SLOT_TOKEN.test(slot)) return refuse(subject, `slot ${JSON.stringify(slot)} is not a slot number`);
  for (const t of names) {
    const bad = badNameToken(t);
    if (bad) return refuse(subject, bad);
  }
  return { ok: true, subject: ['s', slot, family, ...names].join('.') };
}

/**
 * The subject an old-layout log message moves to. Refuses (with the reason) heartbeats, dead
 * letters, subjects already in the new layout, unknown families, wrong token counts, slots that are
 * not numbers and tokens the old builders could not have written.
 */
export function legacyToCurrentSubject(subject: string): LegacySubjectMapping {
  const t = subject.split('.');
  if (t[0] === 'cmd') return mapSlotFamily(subject, 'cmd', t.slice(1));
  if (t[0] === 's' || t[0] === 'g') return refuse(subject, 'already in the new layout');
  if (t[0] !== 'ev') return refuse(subject, `not a subject of the old log (ev.… or cmd.…)`);
  const family = t[1];
  if (family === undefined || family === '') return refuse(subject, 'no family after ev.');
  if (SLOT_FAMILIES.has(family) && family !== 'cmd') return mapSlotFamily(subject, family, t.slice(2));
  if (GLOBAL_FAMILIES.has(family)) {
    if (t.length !== 3) return refuse(subject, `${family} subjects have the form ev.${family}.<${family === 'ns' ? 'name' : 'node'}>`);
    const bad = badNameToken(t[2]!);
    if (bad) return refuse(subject, bad);
    return { ok: true, subject: `g.${family}.${t[2]!}` };
  }
  return refuse(subject, `unknown family ${JSON.stringify(family)} (the old log had ${[...SLOT_FAMILIES.keys()].filter((f) => f !== 'cmd').concat([...GLOBAL_FAMILIES]).map((f) => `ev.${f}`).join(', ')} and cmd)`);
}

/** Which layout a log stream's subjects are: the current one, the one before per-slot subjects, or neither. */
export type LogLayout = 'current' | 'legacy' | 'other';

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((s) => sa.has(s));
}

export function logLayoutOf(subjects: readonly string[] | undefined): LogLayout {
  const s = subjects ?? [];
  if (sameSet(s, LOG_SUBJECTS)) return 'current';
  if (sameSet(s, LEGACY_LOG_SUBJECTS)) return 'legacy';
  return 'other';
}

// ---- the migration's own names ----------------------------------------------------------------

/** The holding stream: a copy of the old log while DS_LOG is re-created (2.9 has no rename). */
export const MIGRATION_STREAM = 'DS_LOG_MIGRATION';
export const MIGRATION_SUBJECTS = ['migration.>'] as const;
/** First message of the holding stream: the old stream's configuration and state (JSON). */
export const MIGRATION_META_SUBJECT = 'migration._meta';
/** Last message of the holding stream: the copy is complete (JSON: message count). */
export const MIGRATION_DONE_SUBJECT = 'migration._done';
/** `migration.<old subject>`: one copied log message. */
export function heldSubject(oldSubject: string): string {
  return `migration.${oldSubject}`;
}
/** The old subject of a held message, or undefined for the holding stream's own messages. */
export function oldSubjectOfHeld(subject: string): string | undefined {
  if (!subject.startsWith('migration.') || subject === MIGRATION_META_SUBJECT || subject === MIGRATION_DONE_SUBJECT) return undefined;
  return subject.slice('migration.'.length);
}

/**
 * Fills a sequence of the old log that held no message (deleted), so every message keeps its
 * sequence in the new log; purged by subject once the log is refilled.
 */
export const MIGRATION_FILLER_SUBJECT = 'g._migration.filler';

/** DS_LOG's description while it is being refilled: topology checks refuse to use it meanwhile. */
export const MIGRATION_IN_PROGRESS_DESCRIPTION = 'dsctl migrate-log in progress: do not write';

/** Headers of the holding stream (a copied message's own `Nats-*` headers are held as `Ds-Held-Nats-*`, so the server does not act on them there). */
export const HELD_HEADER_PREFIX = 'Ds-Held-';
/** A held message's sequence in the old log. */
export const HEADER_HELD_SEQ = 'Ds-Held-Seq';

/** The `Nats-*` headers a migrated message keeps; every other `Nats-*` header was an instruction to the server for the original publish (an expected sequence, a rollup) and is not carried. */
export const CARRIED_NATS_HEADERS: ReadonlySet<string> = new Set(['Nats-Msg-Id']);

export type HeaderPairs = readonly (readonly [string, string])[];

/** An old message's headers as held: `Nats-*` ones renamed `Ds-Held-Nats-*`, the others unchanged. */
export function heldHeaders(headers: HeaderPairs): [string, string][] {
  return headers.map(([k, v]) => [/^nats-/i.test(k) ? `${HELD_HEADER_PREFIX}${k}` : k, v]);
}

/**
 * A held message's headers as the migrated message carries them: the holding stream's own headers
 * removed, the carried `Nats-*` headers restored; `dropped` names the `Nats-*` headers left behind.
 */
export function restoredHeaders(headers: HeaderPairs): { readonly headers: [string, string][]; readonly dropped: string[] } {
  const out: [string, string][] = [];
  const dropped: string[] = [];
  for (const [k, v] of headers) {
    if (!k.startsWith(HELD_HEADER_PREFIX)) {
      out.push([k, v]);
      continue;
    }
    const original = k.slice(HELD_HEADER_PREFIX.length);
    if (!/^nats-/i.test(original)) continue; // the holding stream's own (Ds-Held-Seq)
    if (CARRIED_NATS_HEADERS.has(original)) out.push([original, v]);
    else dropped.push(original);
  }
  return { headers: out, dropped };
}

/** A `Ds-Time` value: whole milliseconds since the epoch, or undefined when it is not one. */
export function parseTimeHeader(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,16}$/.test(value)) return undefined;
  const ms = Number(value);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
