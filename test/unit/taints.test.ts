import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { findUntoleratedTaint, parseTaintArg, tolerates } from '../../libs/model/mod.js';
import type { Taint, Toleration } from '../../libs/model/mod.js';

describe('tolerates (Toleration.ToleratesTaint)', () => {
  const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const cases: readonly [string, Toleration, Taint, boolean][] = [
    ['Equal, same key, value and effect', { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, gpu, true],
    ['the default operator is Equal', { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, gpu, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }, gpu, false],
    ['Equal, no value, against a valued taint', { key: 'dedicated', effect: 'NoSchedule' }, gpu, false],
    ['Equal, no value, against an unvalued taint', { key: 'k', effect: 'NoExecute' }, { key: 'k', effect: 'NoExecute' }, true],
    ['Exists ignores the value', { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, gpu, true],
    ['another key', { key: 'team', operator: 'Exists' }, gpu, false],
    ['another effect', { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, gpu, false],
    ['an empty effect matches every effect', { key: 'dedicated', operator: 'Exists' }, { ...gpu, effect: 'NoExecute' }, true],
    ['an empty key with Exists matches every key', { operator: 'Exists' }, gpu, true],
    ['an empty key with Exists and an effect', { operator: 'Exists', effect: 'NoExecute' }, gpu, false],
    ['PreferNoSchedule is matched like any effect', { key: 'dedicated', operator: 'Exists', effect: 'PreferNoSchedule' }, { ...gpu, effect: 'PreferNoSchedule' }, true],
  ];
  for (const [name, toleration, taint, want] of cases) {
    it(name, () => assert.equal(tolerates(toleration, taint), want));
  }
});

describe('findUntoleratedTaint (FindMatchingUntoleratedTaint)', () => {
  const taints: readonly Taint[] = [
    { key: 'soft', effect: 'PreferNoSchedule' },
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'evict', effect: 'NoExecute' },
  ];

  it('returns the first untolerated taint among the given effects', () => {
    assert.deepEqual(findUntoleratedTaint(taints, [], ['NoSchedule', 'NoExecute']), taints[1]);
    assert.deepEqual(findUntoleratedTaint(taints, [], ['NoExecute']), taints[2]);
  });

  it('considers every effect by default', () => {
    assert.deepEqual(findUntoleratedTaint(taints, []), taints[0]);
  });

  it('skips tolerated taints', () => {
    const tolerations: Toleration[] = [{ key: 'dedicated', operator: 'Exists' }];
    assert.deepEqual(findUntoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute']), taints[2]);
    assert.equal(findUntoleratedTaint(taints, [...tolerations, { key: 'evict', operator: 'Exists' }], ['NoSchedule', 'NoExecute']), undefined);
  });

  it('finds nothing on an untainted node', () => {
    assert.equal(findUntoleratedTaint([], []), undefined);
  });
});

describe('parseTaintArg (kubectl taint KEY[=VALUE]:EFFECT[-])', () => {
  const ok: readonly [string, ReturnType<typeof parseTaintArg>][] = [
    ['dedicated=gpu:NoSchedule', { ok: true, remove: false, taint: { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' } }],
    ['dedicated:NoExecute', { ok: true, remove: false, taint: { key: 'dedicated', effect: 'NoExecute' } }],
    ['dedicated=:PreferNoSchedule', { ok: true, remove: false, taint: { key: 'dedicated', effect: 'PreferNoSchedule' } }],
    ['example.com/team=infra:NoSchedule', { ok: true, remove: false, taint: { key: 'example.com/team', value: 'infra', effect: 'NoSchedule' } }],
    ['dedicated:NoSchedule-', { ok: true, remove: true, taint: { key: 'dedicated', effect: 'NoSchedule' } }],
    ['dedicated-', { ok: true, remove: true, taint: { key: 'dedicated' } }],
  ];
  for (const [arg, want] of ok) {
    it(arg, () => assert.deepEqual(parseTaintArg(arg), want));
  }

  const bad: readonly [string, string][] = [
    ['dedicated', 'invalid taint spec: dedicated'],
    ['dedicated=gpu', 'invalid taint spec: dedicated=gpu'],
    ['a:b:NoSchedule', 'invalid taint spec: a:b:NoSchedule'],
    ['dedicated=gpu:NoRun', 'invalid taint effect: NoRun, unsupported taint effect'],
    ['dedicated:', 'invalid taint effect: , unsupported taint effect'],
    ['a=b=c:NoSchedule', 'invalid taint spec: a=b=c:NoSchedule'],
    ['dedicated=-gpu-:NoSchedule', 'invalid taint spec: dedicated=-gpu-:NoSchedule, a valid label must be'],
    ['bad key:NoSchedule', 'invalid taint spec: bad key:NoSchedule, name part must consist of'],
    ['dedicated:NoRun-', 'invalid taint effect: NoRun, unsupported taint effect'],
    ['-', 'invalid taint spec: -, name part must be non-empty'],
  ];
  for (const [arg, message] of bad) {
    it(`refuses ${arg}`, () => {
      const parsed = parseTaintArg(arg);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.error.startsWith(message), parsed.ok ? '' : parsed.error);
    });
  }
});
