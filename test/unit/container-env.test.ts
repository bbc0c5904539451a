import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerArgv, containerEnv, expandReferences } from '../../services/agent/drivers/container-env.js';
import type { RuntimePod } from '../../libs/agent-runtime/driver.js';

describe('expandReferences (kubelet expansion.Expand)', () => {
  const vars = { A: 'alpha', B: 'beta' };
  const cases: readonly [string, string][] = [
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['$A', '$A'],
    ['$(A', '$(A'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => assert.equal(expandReferences(input, vars), expected));
  }
});

describe('containerEnv and containerArgv', () => {
  const pod: RuntimePod = {
    namespace: 'kube-system',
    name: 'agent-x1',
    uid: 'u-1',
    spec: { containers: [], nodeName: 'node-a' },
    annotations: {},
  };

  it('builds env from values and fieldRefs, earlier names expanding in later values', () => {
    const env = containerEnv(pod, {
      name: 'c',
      image: 'x',
      env: [
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'URL', value: 'http://$(NODE):8080' },
        { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    });
    assert.equal(env['HOSTNAME'], 'agent-x1');
    assert.equal(typeof env['PATH'], 'string');
    assert.deepEqual(
      { NODE: env['NODE'], NS: env['NS'], URL: env['URL'], SECRET: env['SECRET'] },
      { NODE: 'node-a', NS: 'kube-system', URL: 'http://node-a:8080', SECRET: '' },
    );
  });

  it('argv is command ++ args, expanded; no command gives undefined', () => {
    assert.deepEqual(containerArgv({ name: 'c', image: 'x', command: ['run', '$(N)'], args: ['--n=$(N)'] }, { N: '3' }), ['run', '3', '--n=3']);
    assert.equal(containerArgv({ name: 'c', image: 'x', args: ['--flag'] }, {}), undefined);
    assert.equal(containerArgv({ name: 'c', image: 'x', command: [] }, {}), undefined);
  });
});
