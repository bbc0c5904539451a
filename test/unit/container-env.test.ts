import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, EnvVar } from '../../libs/model/types.js';
import { containerArgv, containerEnv, expandReferences } from '../../services/agent/drivers/container-env.js';
import { parseQuantity, quantityMilliValue, quantityValue } from '../../services/agent/drivers/quantity.js';
import type { RuntimeNode, RuntimePod } from '../../libs/agent-runtime/driver.js';

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

const node: RuntimeNode = {
  name: 'node-a',
  hostIPs: ['10.0.0.5', 'fd00::5'],
  allocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', pods: '110' },
};

const limited: Container = {
  name: 'limited',
  image: 'x',
  resources: { limits: { cpu: '500m', memory: '128Mi', 'hugepages-2Mi': '4Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
};
const unlimited: Container = { name: 'unlimited', image: 'x' };
const limitsOnly: Container = { name: 'limits-only', image: 'x', resources: { limits: { cpu: 2, memory: '1Gi' } } };
const zeroLimit: Container = { name: 'zero-limit', image: 'x', resources: { limits: { cpu: '0', memory: '0' } } };
const odd: Container = { name: 'odd', image: 'x', resources: { limits: { cpu: '0.1', memory: '1500m' }, requests: { cpu: '1500m' } } };

function podWith(spec: Partial<RuntimePod['spec']> = {}): RuntimePod {
  return {
    namespace: 'kube-system',
    name: 'agent-x1',
    uid: 'u-1',
    spec: { containers: [limited, unlimited, limitsOnly, zeroLimit, odd], nodeName: 'node-a', ...spec },
    labels: { app: 'agent', 'example.com/tier': 'node', 'controller-revision-hash': '6d8f' },
    annotations: { note: 'hi', 'example.com/owner': 'ops' },
  };
}

/** The value one env var gets, or the error containerEnv reports for it. */
function valueOf(valueFrom: unknown, opts: { pod?: RuntimePod; container?: Container } = {}): string | { error: string } {
  const variable: EnvVar = { name: 'V', valueFrom };
  const container = { ...(opts.container ?? limited), env: [variable] };
  const result = containerEnv(opts.pod ?? podWith(), container, node);
  return result.ok ? (result.env['V'] ?? assert.fail('V not set')) : { error: result.error };
}

describe('downward API: fieldRef (kubelet podFieldSelectorRuntimeValue)', () => {
  const fieldRef = (fieldPath: string, apiVersion?: string): unknown => ({ fieldRef: apiVersion === undefined ? { fieldPath } : { apiVersion, fieldPath } });
  const cases: readonly { readonly path: string; readonly expected: string; readonly pod?: RuntimePod; readonly apiVersion?: string }[] = [
    { path: 'metadata.name', expected: 'agent-x1' },
    { path: 'metadata.namespace', expected: 'kube-system' },
    { path: 'metadata.uid', expected: 'u-1' },
    { path: 'metadata.name', apiVersion: 'v1', expected: 'agent-x1' },
    { path: "metadata.labels['app']", expected: 'agent' },
    { path: "metadata.labels['example.com/tier']", expected: 'node' },
    { path: "metadata.labels['controller-revision-hash']", expected: '6d8f' },
    { path: "metadata.labels['absent']", expected: '' },
    { path: "metadata.annotations['note']", expected: 'hi' },
    { path: "metadata.annotations['example.com/owner']", expected: 'ops' },
    { path: "metadata.annotations['absent']", expected: '' },
    { path: 'spec.nodeName', expected: 'node-a' },
    { path: 'spec.nodeName', pod: { ...podWith(), spec: { containers: [limited] } }, expected: 'node-a' },
    { path: 'spec.serviceAccountName', expected: 'default' },
    { path: 'spec.serviceAccountName', pod: podWith({ serviceAccountName: 'fluentd' }), expected: 'fluentd' },
    { path: 'spec.serviceAccountName', pod: podWith({ serviceAccount: 'legacy' }), expected: 'legacy' },
    { path: 'spec.serviceAccountName', pod: podWith({ serviceAccountName: 'new', serviceAccount: 'legacy' }), expected: 'new' },
    { path: 'status.hostIP', expected: '10.0.0.5' },
    { path: 'status.hostIPs', expected: '10.0.0.5,fd00::5' },
    // The process driver runs containers on the node's network: the pod's IPs are the node's.
    { path: 'status.podIP', expected: '10.0.0.5' },
    { path: 'status.podIPs', expected: '10.0.0.5,fd00::5' },
  ];
  for (const tc of cases) {
    const label = `${tc.apiVersion ?? ''}${tc.apiVersion ? ':' : ''}${tc.path}${tc.pod ? ` (${JSON.stringify(tc.pod.spec.serviceAccountName ?? tc.pod.spec['serviceAccount'] ?? tc.pod.spec.nodeName ?? 'unbound')})` : ''}`;
    it(`${label} → ${JSON.stringify(tc.expected)}`, () => {
      assert.equal(valueOf(fieldRef(tc.path, tc.apiVersion), tc.pod ? { pod: tc.pod } : {}), tc.expected);
    });
  }

  // Paths API validation refuses in env: the kubelet would never see them; the driver refuses to start the pod.
  const refused: readonly [unknown, string][] = [
    [fieldRef('metadata.labels'), 'env V: fieldRef.fieldPath "metadata.labels": not supported in env'],
    [fieldRef('metadata.annotations'), 'env V: fieldRef.fieldPath "metadata.annotations": not supported in env'],
    [fieldRef('spec.restartPolicy'), 'env V: fieldRef.fieldPath "spec.restartPolicy": not supported in env'],
    [fieldRef('status.phase'), 'env V: fieldRef.fieldPath "status.phase": not supported in env'],
    [fieldRef("spec.nodeName['x']"), 'env V: fieldRef.fieldPath "spec.nodeName[\'x\']": not supported in env'],
    [fieldRef("metadata.labels['bad key!']"), 'env V: fieldRef.fieldPath "metadata.labels[\'bad key!\']": invalid label key'],
    [fieldRef('metadata.name', 'v2'), 'env V: fieldRef.apiVersion: unsupported version "v2" (only "v1")'],
    [{ fieldRef: {} }, 'env V: fieldRef.fieldPath: required'],
  ];
  for (const [valueFrom, error] of refused) {
    it(`refuses ${JSON.stringify(valueFrom)}`, () => assert.deepEqual(valueOf(valueFrom), { error }));
  }
});

describe('downward API: resourceFieldRef (resource.ExtractContainerResourceValue)', () => {
  const ref = (resource: string, divisor?: unknown, containerName?: string): unknown => ({
    resourceFieldRef: { resource, ...(divisor !== undefined ? { divisor } : {}), ...(containerName !== undefined ? { containerName } : {}) },
  });
  const cases: readonly { readonly name: string; readonly container: Container; readonly valueFrom: unknown; readonly expected: string }[] = [
    // Limits and requests as given, rounded up to the divisor.
    { name: 'limits.cpu 500m, no divisor', container: limited, valueFrom: ref('limits.cpu'), expected: '1' },
    { name: 'limits.cpu 500m / 1m', container: limited, valueFrom: ref('limits.cpu', '1m'), expected: '500' },
    { name: 'requests.cpu 250m / 1m', container: limited, valueFrom: ref('requests.cpu', '1m'), expected: '250' },
    { name: 'requests.cpu 250m / 1', container: limited, valueFrom: ref('requests.cpu', '1'), expected: '1' },
    { name: 'limits.memory 128Mi', container: limited, valueFrom: ref('limits.memory'), expected: '134217728' },
    { name: 'limits.memory 128Mi / 1Mi', container: limited, valueFrom: ref('limits.memory', '1Mi'), expected: '128' },
    { name: 'limits.memory 128Mi / 1M', container: limited, valueFrom: ref('limits.memory', '1M'), expected: '135' },
    { name: 'limits.memory 128Mi / 1Gi', container: limited, valueFrom: ref('limits.memory', '1Gi'), expected: '1' },
    { name: 'limits.memory 128Mi / 1Ki', container: limited, valueFrom: ref('limits.memory', '1Ki'), expected: '131072' },
    { name: 'requests.memory 64Mi / 1Mi', container: limited, valueFrom: ref('requests.memory', '1Mi'), expected: '64' },
    { name: 'divisor 0 is read as 1', container: limited, valueFrom: ref('limits.memory', '0'), expected: '134217728' },
    { name: 'divisor as a JSON number', container: limited, valueFrom: ref('limits.memory', 1048576), expected: '128' },
    { name: 'limits.hugepages-2Mi 4Mi / 1Mi', container: limited, valueFrom: ref('limits.hugepages-2Mi', '1Mi'), expected: '4' },
    // No limit: the node's allocatable (defaultPodLimitsForDownwardAPI); no request: 0.
    { name: 'no limit: limits.cpu is allocatable', container: unlimited, valueFrom: ref('limits.cpu'), expected: '4' },
    { name: 'no limit: limits.cpu / 1m', container: unlimited, valueFrom: ref('limits.cpu', '1m'), expected: '4000' },
    { name: 'no limit: limits.memory / 1Mi', container: unlimited, valueFrom: ref('limits.memory', '1Mi'), expected: '8192' },
    { name: 'no limit: limits.ephemeral-storage / 1Gi', container: unlimited, valueFrom: ref('limits.ephemeral-storage', '1Gi'), expected: '100' },
    { name: 'no limit: hugepages are never defaulted', container: unlimited, valueFrom: ref('limits.hugepages-2Mi'), expected: '0' },
    { name: 'no request: requests.cpu is 0', container: unlimited, valueFrom: ref('requests.cpu'), expected: '0' },
    { name: 'no request: requests.memory is 0', container: unlimited, valueFrom: ref('requests.memory'), expected: '0' },
    // Requests left unset take the limits (SetDefaults_Pod), not the node's allocatable.
    { name: 'limits only: requests.cpu is the limit', container: limitsOnly, valueFrom: ref('requests.cpu'), expected: '2' },
    { name: 'limits only: requests.memory / 1Mi is the limit', container: limitsOnly, valueFrom: ref('requests.memory', '1Mi'), expected: '1024' },
    { name: 'limits only: limits.cpu given as a number', container: limitsOnly, valueFrom: ref('limits.cpu', '1m'), expected: '2000' },
    // A zero limit counts as none (MergeContainerResourceLimits).
    { name: 'zero limit: limits.cpu is allocatable', container: zeroLimit, valueFrom: ref('limits.cpu'), expected: '4' },
    { name: 'zero limit: limits.memory / 1Gi is allocatable', container: zeroLimit, valueFrom: ref('limits.memory', '1Gi'), expected: '8' },
    // Rounding: MilliValue and Value round up, and so does the division.
    { name: 'cpu 0.1 / 1m', container: odd, valueFrom: ref('limits.cpu', '1m'), expected: '100' },
    { name: 'cpu 0.1 / 1', container: odd, valueFrom: ref('limits.cpu'), expected: '1' },
    { name: 'requests.cpu 1500m / 1', container: odd, valueFrom: ref('requests.cpu'), expected: '2' },
    { name: 'memory 1500m rounds up to 2 bytes', container: odd, valueFrom: ref('limits.memory'), expected: '2' },
    // containerName points at another container of the pod, defaulted the same way.
    { name: 'containerName: the other container', container: limited, valueFrom: ref('limits.cpu', '1m', 'unlimited'), expected: '4000' },
    { name: 'containerName: its own name', container: limited, valueFrom: ref('limits.cpu', '1m', 'limited'), expected: '500' },
  ];
  for (const tc of cases) {
    it(`${tc.name} → ${tc.expected}`, () => assert.equal(valueOf(tc.valueFrom, { container: tc.container }), tc.expected));
  }

  const refused: readonly [unknown, string][] = [
    [ref('limits.foo'), 'env V: resourceFieldRef.resource "limits.foo": unsupported container resource'],
    [ref('cpu'), 'env V: resourceFieldRef.resource "cpu": unsupported container resource'],
    [ref('limits.cpu', '1m', 'nope'), 'env V: resourceFieldRef.containerName: container "nope" not found'],
    [ref('limits.cpu', 'lots'), 'env V: resourceFieldRef.divisor: invalid quantity "lots"'],
    [ref('limits.cpu', '-1'), 'env V: resourceFieldRef.divisor: must be positive, not "-1"'],
    [{ resourceFieldRef: {} }, 'env V: resourceFieldRef.resource: required'],
  ];
  for (const [valueFrom, error] of refused) {
    it(`refuses ${JSON.stringify(valueFrom)}`, () => assert.deepEqual(valueOf(valueFrom), { error }));
  }

  it('refuses a container whose resources are not quantities', () => {
    const bad: Container = { name: 'bad', image: 'x', resources: { limits: { cpu: 'lots' } } };
    assert.deepEqual(valueOf(ref('limits.cpu'), { container: bad }), { error: 'env V: resources of container "bad": invalid cpu quantity' });
  });
});

describe('parseQuantity (resource.ParseQuantity)', () => {
  const cases: readonly [unknown, bigint | undefined, bigint | undefined][] = [
    // input, Value(), MilliValue()
    ['1', 1n, 1000n],
    ['100m', 1n, 100n],
    ['1Ki', 1024n, 1024000n],
    ['1Mi', 1048576n, 1048576000n],
    ['1k', 1000n, 1000000n],
    ['1M', 1000000n, 1000000000n],
    ['1e3', 1000n, 1000000n],
    ['1E-3', 1n, 1n],
    ['.5', 1n, 500n],
    ['1.', 1n, 1000n],
    ['0.0001', 1n, 1n],
    ['+2', 2n, 2000n],
    ['1500u', 1n, 2n],
    [3, 3n, 3000n],
    ['Ki', undefined, undefined],
    ['1KI', undefined, undefined],
    ['1 Mi', undefined, undefined],
    ['', undefined, undefined],
  ];
  for (const [input, value, milli] of cases) {
    it(`${JSON.stringify(input)} → ${String(value)} (${String(milli)}m)`, () => {
      const q = parseQuantity(input);
      assert.deepEqual(q === undefined ? [undefined, undefined] : [quantityValue(q), quantityMilliValue(q)], [value, milli]);
    });
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
    const result = containerEnv(
      pod,
      {
        name: 'c',
        image: 'x',
        env: [
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'URL', value: 'http://$(NODE):8080' },
          { name: 'HOST_URL', value: 'http://$(HOST_IP):9100' },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
      node,
    );
    assert.ok(result.ok);
    const env = result.env;
    assert.equal(env['HOSTNAME'], 'agent-x1');
    assert.equal(typeof env['PATH'], 'string');
    assert.deepEqual(
      { NODE: env['NODE'], NS: env['NS'], URL: env['URL'], HOST_URL: env['HOST_URL'], HOST_IP: env['HOST_IP'], SECRET: env['SECRET'] },
      // A reference to a variable defined later stays as written, as in Kubernetes.
      { NODE: 'node-a', NS: 'kube-system', URL: 'http://node-a:8080', HOST_URL: 'http://$(HOST_IP):9100', HOST_IP: '10.0.0.5', SECRET: '' },
    );
  });

  it('argv is command ++ args, expanded; no command gives undefined', () => {
    assert.deepEqual(containerArgv({ name: 'c', image: 'x', command: ['run', '$(N)'], args: ['--n=$(N)'] }, { N: '3' }), ['run', '3', '--n=3']);
    assert.equal(containerArgv({ name: 'c', image: 'x', args: ['--flag'] }, {}), undefined);
    assert.equal(containerArgv({ name: 'c', image: 'x', command: [] }, {}), undefined);
  });
});
