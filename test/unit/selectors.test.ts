import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { formatSelector, matchesSelector, parseSelectorString } from '../../libs/model/mod.js';
import type { LabelSelector, Labels } from '../../libs/model/mod.js';

describe('matchesSelector (LabelSelectorAsSelector semantics)', () => {
  const labels: Labels = { name: 'fluentd', tier: 'logging', zone: '' };
  const cases: readonly [string, LabelSelector, boolean][] = [
    ['an empty selector matches everything', {}, true],
    ['empty lists match everything', { matchLabels: {}, matchExpressions: [] }, true],
    ['matchLabels equal', { matchLabels: { name: 'fluentd' } }, true],
    ['matchLabels all must hold', { matchLabels: { name: 'fluentd', tier: 'web' } }, false],
    ['matchLabels on a missing key', { matchLabels: { app: 'x' } }, false],
    ['matchLabels with an empty value', { matchLabels: { zone: '' } }, true],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'logging'] }] }, true],
    ['In, value not listed', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] }, false],
    ['NotIn, value listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['logging'] }] }, false],
    ['NotIn, value not listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, true],
    ['NotIn on a missing key matches', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['x'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist on a present key', { matchExpressions: [{ key: 'name', operator: 'DoesNotExist' }] }, false],
    ['matchLabels AND matchExpressions', { matchLabels: { name: 'fluentd' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, false],
  ];
  for (const [name, selector, want] of cases) {
    it(name, () => assert.equal(matchesSelector(selector, labels), want));
  }

  it('does not see inherited properties as labels', () => {
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}), false);
  });
});

describe('formatSelector (metav1.FormatLabelSelector)', () => {
  const cases: readonly [LabelSelector, string][] = [
    [{}, '<none>'],
    [{ matchLabels: { name: 'fluentd' } }, 'name=fluentd'],
    [{ matchLabels: { tier: 'a', name: 'fluentd' } }, 'name=fluentd,tier=a'],
    [{ matchLabels: { name: 'fluentd' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] }, 'name=fluentd,tier in (a,b)'],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] }, 'tier notin (x)'],
    [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' }, { key: 'arm', operator: 'DoesNotExist' }] }, '!arm,gpu'],
  ];
  for (const [selector, text] of cases) {
    it(text, () => assert.equal(formatSelector(selector), text));
  }
});

describe('parseSelectorString (labels.Parse, for -l)', () => {
  const labels: Labels = { app: 'fluentd', tier: 'logging', gen: '3' };
  const cases: readonly [string, boolean][] = [
    ['', true],
    ['app=fluentd', true],
    ['app==fluentd', true],
    ['app = fluentd', true],
    ['app=nginx', false],
    ['app!=nginx', true],
    ['app!=fluentd', false],
    ['missing!=x', true],
    ['tier in (logging,web)', true],
    ['tier in (web)', false],
    ['tier notin (web, db)', true],
    ['tier notin (logging)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=fluentd,tier in (logging)', true],
    ['app=fluentd,tier in (web)', false],
    ['gen>2', true],
    ['gen<3', false],
    ['app=', false],
  ];
  for (const [text, want] of cases) {
    it(`"${text}" ${want ? 'matches' : 'does not match'}`, () => {
      const parsed = parseSelectorString(text);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
      assert.equal(parsed.matches(labels), want);
    });
  }

  it('returns the requirements sorted by key', () => {
    const parsed = parseSelectorString('tier in (b,a), app=x, !old');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.requirements, [
      { key: 'app', operator: 'Equals', values: ['x'] },
      { key: 'old', operator: 'DoesNotExist', values: [] },
      { key: 'tier', operator: 'In', values: ['b', 'a'] },
    ]);
  });

  const errors: readonly [string, string][] = [
    ['tier in web', "unable to parse requirement: found 'web', expected: '('"],
    ['tier in ()', "for 'in', 'notin' operators, values set can't be empty"],
    ['tier in (a', "unable to parse requirement: found end of string, expected: ',' or ')'"],
    ['a=b=c', "unable to parse requirement: found '=', expected: ','"],
    ['=b', "unable to parse requirement: found '=', expected: !, identifier, or 'end of string'"],
    ['a,', "unable to parse requirement: found end of string, expected: !, identifier, or 'end of string'"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['bad key!=x', "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt"],
    ['-bad=x', 'invalid label key "-bad": name part must consist of'],
    ['a=-x-', 'invalid label value: "-x-": at key: "a": a valid label must be'],
    ['gen>x', "for 'Gt', 'Lt' operators, exactly one integer value is required"],
  ];
  for (const [text, message] of errors) {
    it(`refuses "${text}"`, () => {
      const parsed = parseSelectorString(text);
      assert.equal(parsed.ok, false);
      assert.ok(!parsed.ok && parsed.error.startsWith(message), parsed.ok ? '' : parsed.error);
    });
  }
});
