// The launcher's ledger of its children: reading /proc start times and the ledger file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { parseLedger, procStartTime, startTimeOf } from '../../scripts/local-cluster/child-ledger.js';

describe('startTimeOf (/proc/<pid>/stat field 22)', () => {
  const tail = '0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 123456 19 20';
  it('reads field 22 after the command', () => {
    assert.equal(startTimeOf(`4242 (nats-server) S ${tail}`), '123456');
  });
  it('a command with spaces and parentheses does not shift the fields', () => {
    assert.equal(startTimeOf(`4242 (node (x) y) S ${tail}`), '123456');
  });
  it('a zombie is not running', () => {
    assert.equal(startTimeOf(`4242 (nats-server) Z ${tail}`), undefined);
  });
  it('this process has a start time; pid 0x7fffffff has none', () => {
    assert.match(procStartTime(process.pid) ?? '', /^\d+$/);
    assert.equal(procStartTime(0x7fffffff), undefined);
  });
});

describe('parseLedger', () => {
  it('keeps well-formed entries and drops the rest', () => {
    const text = JSON.stringify([
      { name: 'nats', pid: 10, startTime: '99' },
      { name: 'bad-pid', pid: -1, startTime: '1' },
      { name: 'no-start', pid: 11 },
      'junk',
    ]);
    assert.deepEqual(parseLedger(text), [{ name: 'nats', pid: 10, startTime: '99' }]);
  });
  it('not JSON, or not a list: nothing', () => {
    assert.deepEqual(parseLedger('{'), []);
    assert.deepEqual(parseLedger('{"pid":1}'), []);
  });
});
