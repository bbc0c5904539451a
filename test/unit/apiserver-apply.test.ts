// The pure parts of the API facade's newer paths: server-side apply's merge, fieldValidation's
// unknown-field check (strict decoding), and the bearer-token check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerAuthenticator } from '../../services/apiserver/bearer-auth.js';
import { fieldValidationOf, validateFields } from '../../services/apiserver/field-validation.js';
import { checkKnownFields } from '../../services/apiserver/known-fields.js';
import type { Json, JsonMap } from '../../services/apiserver/patch.js';
import { applyConfiguration } from '../../services/apiserver/server-side-apply.js';
import { ApiError } from '../../services/apiserver/api-errors.js';

describe('server-side apply: the applied configuration merged into the live object', () => {
  const cases: readonly { name: string; live: Json; applied: JsonMap; want: Json }[] = [
    {
      name: 'applied fields replace, unspecified fields keep their values',
      live: { metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { minReadySeconds: 5, revisionHistoryLimit: 10 } },
      applied: { metadata: { name: 'a', labels: { y: '3' } }, spec: { minReadySeconds: 0 } },
      want: { metadata: { name: 'a', labels: { x: '1', y: '3' } }, spec: { minReadySeconds: 0, revisionHistoryLimit: 10 } },
    },
    {
      name: 'containers merge by name (listType map); a container field not applied stays',
      live: { spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'b:1' }] } },
      applied: { spec: { containers: [{ name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }] } },
      want: { spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'E', value: '1' }] }, { name: 'b', image: 'b:2' }, { name: 'c', image: 'c:1' }] } },
    },
    {
      name: 'ports merge on containerPort and protocol (TCP by default)',
      live: { ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 80, protocol: 'UDP' }] },
      applied: { ports: [{ containerPort: 80, name: 'web' }] },
      want: { ports: [{ containerPort: 80, protocol: 'TCP', name: 'web' }, { containerPort: 80, protocol: 'UDP' }] },
    },
    {
      name: 'atomic lists (tolerations, command) are replaced whole',
      live: { tolerations: [{ key: 'a', operator: 'Exists' }], command: ['x', 'y'] },
      applied: { tolerations: [{ key: 'b', operator: 'Exists' }], command: ['z'] },
      want: { tolerations: [{ key: 'b', operator: 'Exists' }], command: ['z'] },
    },
    {
      name: 'set lists (finalizers) are a union',
      live: { metadata: { finalizers: ['a'] } },
      applied: { metadata: { finalizers: ['b', 'a'] } },
      want: { metadata: { finalizers: ['a', 'b'] } },
    },
    {
      name: 'a null states nothing',
      live: { spec: { minReadySeconds: 5 } },
      applied: { spec: { minReadySeconds: null, revisionHistoryLimit: 3 } },
      want: { spec: { minReadySeconds: 5, revisionHistoryLimit: 3 } },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(applyConfiguration(c.live, c.applied), c.want));

  it('does not change the live object', () => {
    const live: JsonMap = { spec: { containers: [{ name: 'a', image: 'a:1' }] } };
    const before = JSON.stringify(live);
    applyConfiguration(live, { spec: { containers: [{ name: 'a', image: 'a:2' }] } });
    assert.equal(JSON.stringify(live), before);
  });
});

describe('unknown fields (strict decoding)', () => {
  const ds = (container: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'x', labels: { a: 'b' }, annotations: { 'any/key': 'v' } },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container], volumes: [{ name: 'v', hostPath: { path: '/var/log' } }] } },
      ...extra,
    },
  });

  it('a valid DaemonSet (the fluentd example\'s fields) has none', () => {
    const c = { name: 'c', image: 'i', resources: { limits: { memory: '200Mi' } }, volumeMounts: [{ name: 'v', mountPath: '/var/log' }], imagePullPolicy: 'Always' };
    assert.deepEqual(checkKnownFields('DaemonSet', ds(c, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } })).unknown, []);
  });

  it('names every unknown field by its path, in document order, and prunes them', () => {
    const r = checkKnownFields('DaemonSet', { ...ds({ name: 'c', image: 'i', imagePullPolicyy: 'Always' }, { replicas: 3 }), extra: true });
    assert.deepEqual(r.unknown, ['spec.template.spec.containers[0].imagePullPolicyy', 'spec.replicas', 'extra']);
    assert.deepEqual(r.pruned, ds({ name: 'c', image: 'i' }));
  });

  it('a Namespace knows metadata, spec.finalizers and status only', () => {
    assert.deepEqual(checkKnownFields('Namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labelz: {} }, spec: { finalizers: [], x: 1 } }).unknown, ['metadata.labelz', 'spec.x']);
  });

  it('Strict refuses with kube\'s texts (create: the decoder\'s, patch: the patcher\'s); Warn warns; Ignore is silent', () => {
    const body = ds({ name: 'c', image: 'i', imagePullPolicyy: 'Always', foo: 1 });
    const refusal = (step: 'create' | 'patch'): unknown => {
      try {
        validateFields('DaemonSet', body, 'Strict', step);
      } catch (err) {
        return err instanceof ApiError ? [err.code, err.reason, err.message] : err;
      }
      return undefined;
    };
    const text = 'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy", unknown field "spec.template.spec.containers[0].foo"';
    assert.deepEqual(refusal('create'), [400, 'BadRequest', `DaemonSet in version "v1" cannot be handled as a DaemonSet: ${text}`]);
    assert.deepEqual(refusal('patch'), [400, 'BadRequest', text]);
    const warned = validateFields('DaemonSet', body, 'Warn', 'create');
    assert.deepEqual(warned.warnings, [
      '299 - "unknown field \\"spec.template.spec.containers[0].imagePullPolicyy\\""',
      '299 - "unknown field \\"spec.template.spec.containers[0].foo\\""',
    ]);
    assert.deepEqual(warned.body, ds({ name: 'c', image: 'i' }));
    assert.deepEqual(validateFields('DaemonSet', body, 'Ignore', 'create'), { body: ds({ name: 'c', image: 'i' }), warnings: [] });
  });

  it('the directive: Strict, Warn, Ignore; absent is Warn; anything else is a 400', () => {
    assert.deepEqual(['Strict', 'Warn', 'Ignore', ''].map((v) => fieldValidationOf(new URLSearchParams({ fieldValidation: v }))), ['Strict', 'Warn', 'Ignore', 'Warn']);
    assert.equal(fieldValidationOf(new URLSearchParams()), 'Warn');
    assert.throws(() => fieldValidationOf(new URLSearchParams({ fieldValidation: 'strict' })), (err: unknown) => err instanceof ApiError && err.code === 400);
  });
});

describe('bearer-token authentication', () => {
  const check = bearerAuthenticator('s3cret-token');
  const cases: readonly [string, string, string | undefined, boolean][] = [
    ['the right token', '/api', 'Bearer s3cret-token', true],
    ['the scheme in any case', '/api', 'bearer s3cret-token', true],
    ['no header', '/api', undefined, false],
    ['a wrong token', '/api', 'Bearer s3cret-tokeN', false],
    ['a prefix of the token', '/api', 'Bearer s3cret', false],
    ['the token with another scheme', '/api', 'Basic s3cret-token', false],
    ['an empty bearer', '/api', 'Bearer ', false],
    ['health checks without a token', '/healthz', undefined, true],
    ['livez and readyz too', '/readyz', undefined, true],
    ['a path that only starts like one', '/healthz/x', undefined, false],
  ];
  for (const [name, path, header, want] of cases) it(name, () => assert.equal(check(path, header), want));

  it('without a token everything is let in', () => assert.equal(bearerAuthenticator(undefined)('/api', undefined), true));
});
