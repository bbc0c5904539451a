// The refilled log (fillers purged) checked against its copy, message by message.

import type { NatsConnection } from '@nats-io/transport-node';
import { HEADER_HELD_SEQ, legacyToCurrentSubject, MIGRATION_STREAM, oldSubjectOfHeld, restoredHeaders } from '../../topology/legacy-layout.js';
import { LOG_STREAM } from '../../topology/names.js';
import { managerOf } from '../subject-reads.js';
import { headerPairs } from './header-pairs.js';
import { openOrderedReader } from './ordered-reader.js';
import type { HeldMeta } from './types.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks the refilled log (fillers purged) against the copy, message by message: each held message
 * at its old sequence with its subject mapped, its payload and its carried headers, nothing else up
 * to the old last sequence, which is the log's (or before it, when written to since).
 */
export async function verifyRefilled(nc: NatsConnection, meta: HeldMeta): Promise<string[]> {
  const jsm = await managerOf(nc);
  const info = await jsm.streams.info(LOG_STREAM);
  const problems: string[] = [];
  const note = (p: string): void => {
    if (problems.length < 10) problems.push(p);
  };
  if (info.state.last_seq < meta.state.lastSeq) note(`the log ends at ${info.state.last_seq}, the old one at ${meta.state.lastSeq}`);
  if (info.state.last_seq === meta.state.lastSeq && info.state.messages !== meta.state.messages) note(`the log holds ${info.state.messages} messages, the old one ${meta.state.messages}`);
  if (meta.state.messages === 0 || info.state.messages === 0) return problems;
  const held = await openOrderedReader(nc, MIGRATION_STREAM, 2);
  const log = await openOrderedReader(nc, LOG_STREAM, 1);
  try {
    let l = await log.next();
    for (let h = await held.next(); h !== undefined; h = await held.next()) {
      const old = oldSubjectOfHeld(h.subject);
      if (old === undefined) break;
      const seq = Number(h.headers?.get(HEADER_HELD_SEQ));
      const mapped = legacyToCurrentSubject(old);
      while (l !== undefined && l.seq < seq) {
        note(`sequence ${l.seq} (${l.subject}) was not in the old log`);
        l = await log.next();
      }
      if (l === undefined || l.seq !== seq) {
        note(`sequence ${seq} (${old}) is missing`);
        continue;
      }
      if (!mapped.ok || l.subject !== mapped.subject) note(`sequence ${seq}: subject ${l.subject}, expected ${mapped.ok ? mapped.subject : mapped.reason}`);
      else if (!sameBytes(l.data, h.data)) note(`sequence ${seq}: the payload differs`);
      else {
        const want = JSON.stringify(restoredHeaders(headerPairs(h.headers)).headers);
        const got = JSON.stringify(headerPairs(l.headers));
        if (want !== got) note(`sequence ${seq}: headers ${got}, expected ${want}`);
      }
      l = await log.next();
    }
    for (; l !== undefined && l.seq <= meta.state.lastSeq; l = await log.next()) note(`sequence ${l.seq} (${l.subject}) was not in the old log`);
  } finally {
    await held.close();
    await log.close();
  }
  return problems;
}
