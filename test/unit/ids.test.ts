// Deterministic identities: the same inputs give the same command id, pod uid and pod name, so
// a controller that decides again after a restart produces what the server de-duplicates.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createIdentity, deleteCommandId, derivedUid, hash53, podNameFor, suffix5 } from '../../libs/core/ids.js';

const K8S_ALPHABET = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

describe('ids', () => {
  it('hash53 is deterministic, seed-dependent and within 53 bits', () => {
    assert.equal(hash53('abc'), hash53('abc'));
    assert.notEqual(hash53('abc'), hash53('abd'));
    assert.notEqual(hash53('abc', 1), hash53('abc', 2));
    for (const t of ['', 'a', 'x'.repeat(1000)]) assert.ok(Number.isSafeInteger(hash53(t)) && hash53(t) >= 0);
  });

  it('suffix5: five characters of the Kubernetes rand.String alphabet', () => {
    for (let i = 0; i < 200; i++) {
      const s = suffix5(`seed-${i}`);
      assert.equal(s.length, 5);
      assert.match(s, K8S_ALPHABET);
    }
    assert.equal(suffix5('x'), suffix5('x'));
  });

  it('pod names are `<ds>-<5 chars>`', () => {
    const name = podNameFor('fluentd', 'seed', 0);
    assert.match(name, /^fluentd-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(name, podNameFor('fluentd', 'seed', 0));
  });

  it('the generateName base is cut to 58 characters, so names stay within 63', () => {
    const long = 'a'.repeat(70);
    const name = podNameFor(long, 'seed', 0);
    assert.equal(name.length, 63);
    assert.equal(name.slice(0, 58), 'a'.repeat(58));
    assert.match(name.slice(58), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const exact = 'b'.repeat(57); // "<57>-" is exactly 58
    assert.equal(podNameFor(exact, 'seed', 0).slice(0, 58), `${exact}-`);
  });

  it('a salt changes the name (used when the name is taken)', () => {
    const names = new Set([0, 1, 2, 3].map((salt) => podNameFor('ds', 'seed', salt)));
    assert.equal(names.size, 4);
  });

  it('derivedUid is UUID-shaped (version 4 layout) and deterministic', () => {
    const u = derivedUid('x');
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(u, derivedUid('x'));
    assert.notEqual(u, derivedUid('y'));
  });

  it('createIdentity depends on every input and only on them', () => {
    const base = createIdentity('uid', 'node', 'hash', 0, 1);
    assert.deepEqual(createIdentity('uid', 'node', 'hash', 0, 1), base);
    assert.match(base.commandId, /^create-[0-9a-z]+-[0-9a-z]+$/);
    const variants = [
      createIdentity('uid2', 'node', 'hash', 0, 1),
      createIdentity('uid', 'node2', 'hash', 0, 1),
      createIdentity('uid', 'node', 'hash2', 0, 1),
      createIdentity('uid', 'node', 'hash', 1, 1),
      createIdentity('uid', 'node', 'hash', 0, 2),
    ];
    for (const v of variants) {
      assert.notEqual(v.commandId, base.commandId);
      assert.notEqual(v.podUid, base.podUid);
      assert.notEqual(v.nameSeed, base.nameSeed);
    }
    assert.equal(new Set([base, ...variants].map((v) => v.commandId)).size, 6);
  });

  it('deleteCommandId depends on the pod uid and the epoch', () => {
    assert.equal(deleteCommandId('p', 1), deleteCommandId('p', 1));
    assert.match(deleteCommandId('p', 1), /^delete-[0-9a-z]+-[0-9a-z]+$/);
    assert.notEqual(deleteCommandId('p', 1), deleteCommandId('p', 2));
    assert.notEqual(deleteCommandId('p', 1), deleteCommandId('q', 1));
  });

  it('no collisions among many creates of a fleet', () => {
    const ids = new Set<string>();
    const names = new Set<string>();
    for (let n = 0; n < 2000; n++) {
      const id = createIdentity('ds-uid', `node-${n}`, 'h', 0, 1);
      ids.add(id.commandId);
      names.add(podNameFor('fluentd', id.nameSeed, 0));
    }
    assert.equal(ids.size, 2000);
    // 27^5 ≈ 14.3 M names: a handful of collisions among 2000 is possible, the builder salts them.
    assert.ok(names.size >= 1990, `${names.size} distinct names`);
  });
});
