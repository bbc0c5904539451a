// The bus context npm start writes for dsctl: where dsctl looks, and what it accepts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { contextPathFrom, parseContext } from '../../libs/nats/bus-context.js';

describe('contextPathFrom', () => {
  const cases: { name: string; env: Record<string, string>; want: string }[] = [
    { name: 'default: .data/context.json in the current folder', env: {}, want: '/repo/.data/context.json' },
    { name: 'DATA_DIR, relative', env: { DATA_DIR: 'run/data' }, want: '/repo/run/data/context.json' },
    { name: 'DATA_DIR, absolute', env: { DATA_DIR: '/var/ds' }, want: '/var/ds/context.json' },
    { name: 'DSCTL_CONTEXT wins over DATA_DIR', env: { DATA_DIR: '/var/ds', DSCTL_CONTEXT: '/etc/ds/ctx.json' }, want: '/etc/ds/ctx.json' },
    { name: 'an empty DSCTL_CONTEXT is unset', env: { DSCTL_CONTEXT: '' }, want: '/repo/.data/context.json' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(contextPathFrom(c.env, '/repo'), c.want));
});

describe('parseContext', () => {
  const ok = { apiVersion: 'daemonset-js.io/v1', kind: 'BusContext', server: 'nats://127.0.0.1:4222', creds: '/d/auth/admin.creds', writtenBy: 'npm start' };
  it('reads a full context', () => {
    assert.deepEqual(parseContext(JSON.stringify(ok)), { ok: true, context: ok });
  });
  it('creds and tlsCa are optional', () => {
    const r = parseContext(JSON.stringify({ apiVersion: 'daemonset-js.io/v1', kind: 'BusContext', server: 'tls://h:4222', tlsCa: '/d/tls/ca.crt' }));
    assert.deepEqual(r, { ok: true, context: { apiVersion: 'daemonset-js.io/v1', kind: 'BusContext', server: 'tls://h:4222', tlsCa: '/d/tls/ca.crt', writtenBy: 'unknown' } });
  });
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['another kind', JSON.stringify({ ...ok, kind: 'Config' }), /not a daemonset-js.io\/v1 BusContext/],
    ['no server', JSON.stringify({ ...ok, server: '' }), /server: expected a NATS URL/],
    ['creds not a string', JSON.stringify({ ...ok, creds: 42 }), /creds: expected a string/],
    ['an array', '[]', /not a daemonset-js.io\/v1 BusContext/],
  ];
  for (const [name, text, problem] of bad) {
    it(`refuses ${name}`, () => {
      const r = parseContext(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.problem, problem);
    });
  }
});
