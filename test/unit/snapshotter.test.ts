// When the controller writes a snapshot: by count of events folded since the last, or by time
// when anything was folded since.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { SnapshotPart } from '../../libs/core/snapshot.js';
import { initialState } from '../../libs/core/state.js';
import { partsToWrite, snapshotDue } from '../../services/controller/snapshotter.js';

describe('snapshotDue', () => {
  const cases: { name: string; everyEvents: number; everyMs: number; events: number; ms: number; due: boolean }[] = [
    { name: 'nothing folded: never, however long', everyEvents: 10, everyMs: 1000, events: 0, ms: 1e9, due: false },
    { name: 'count reached', everyEvents: 10, everyMs: 0, events: 10, ms: 0, due: true },
    { name: 'count not reached, time off', everyEvents: 10, everyMs: 0, events: 9, ms: 1e9, due: false },
    { name: 'time reached with something folded', everyEvents: 0, everyMs: 1000, events: 1, ms: 1000, due: true },
    { name: 'time not reached', everyEvents: 0, everyMs: 1000, events: 1, ms: 999, due: false },
    { name: 'both off: never', everyEvents: 0, everyMs: 0, events: 1e6, ms: 1e9, due: false },
    { name: 'either suffices', everyEvents: 100, everyMs: 1000, events: 5, ms: 2000, due: true },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(snapshotDue({ everyEvents: c.everyEvents, everyMs: c.everyMs }, c.events, c.ms), c.due));
  }
});

describe('partsToWrite: the parts whose position moved since they were last written', () => {
  const state = initialState();
  state.global.seq = 40;
  state.slotParts.set(3, { seq: 12, timeMs: 0 });
  state.slotParts.set(5, { seq: 30, timeMs: 0 });
  const cases: { name: string; held: SnapshotPart[]; written: [SnapshotPart, number][]; want: SnapshotPart[] }[] = [
    { name: 'never written: every held part that has folded anything', held: ['global', 3, 5, 7], written: [], want: ['global', 3, 5] },
    { name: 'written at its position: not again', held: ['global', 3, 5], written: [['global', 40], [3, 12], [5, 29]], want: [5] },
    { name: 'only the parts held now', held: [3], written: [], want: [3] },
    { name: 'a part folded nothing (slot 7): nothing to write', held: [7], written: [], want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(partsToWrite(state, c.held, new Map(c.written)), c.want));
});
