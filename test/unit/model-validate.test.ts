import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { FLUENTD_DAEMONSET_YAML, SHARED_FLUENTD } from '../support/manifests.js';

import { parseAllDocuments } from 'yaml';

import {
  defaultDaemonSetSpec,
  formatFieldError,
  formatFieldErrors,
  parseDaemonSet,
  validateDaemonSetUpdate,
} from '../../libs/model/mod.js';
import type { DaemonSetSpec, FieldError } from '../../libs/model/mod.js';

const FLUENTD_YAML = FLUENTD_DAEMONSET_YAML;
const SHARED_MANIFEST = SHARED_FLUENTD;

type Json = Record<string | number, unknown>;
const REMOVE = Symbol('remove');

function fluentd(): Json {
  const docs = parseAllDocuments(FLUENTD_YAML);
  return docs[0]!.toJS() as Json;
}

/** A copy of the fluentd manifest with the value at `path` replaced (or removed), creating objects on the way. */
function patched(path: readonly (string | number)[], value: unknown, base: Json = fluentd()): Json {
  const copy = structuredClone(base);
  let target = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
    target = target[key] as Json;
  }
  const last = path[path.length - 1]!;
  if (value === REMOVE) delete target[last];
  else target[last] = value;
  return copy;
}

function errorsOf(input: unknown): readonly FieldError[] {
  const result = parseDaemonSet(input);
  assert.equal(result.ok, false, 'expected the manifest to be refused');
  return result.ok ? [] : result.errors;
}

/** Asserts the formatted errors, in order; each expectation is a prefix of the kubectl line. */
function assertErrors(input: unknown, expected: readonly string[]): void {
  const lines = errorsOf(input).map(formatFieldError);
  assert.equal(lines.length, expected.length, `got:\n${lines.join('\n')}`);
  expected.forEach((prefix, i) => assert.ok(lines[i]!.startsWith(prefix), `error ${i}:\n  got  ${lines[i]}\n  want ${prefix}…`));
}

const TPL = ['spec', 'template', 'spec'] as const;
const C0 = [...TPL, 'containers', 0] as const;
const RU = ['spec', 'updateStrategy', 'rollingUpdate'] as const;
const T0 = [...TPL, 'tolerations', 0] as const;
const NA = [...TPL, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'] as const;
const term = (req: unknown, kind = 'matchExpressions') => ({ nodeSelectorTerms: [{ [kind]: [req] }] });
const NA0 = 'spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]';

describe('parseDaemonSet: valid manifests', () => {
  it('accepts the fluentd-elasticsearch DaemonSet and returns it undefaulted', () => {
    const result = parseDaemonSet(fluentd());
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatFieldError).join('\n'));
    assert.deepEqual(result.value.metadata, {
      name: 'fluentd-elasticsearch',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'fluentd-logging' },
    });
    assert.deepEqual(result.value.spec.selector, { matchLabels: { name: 'fluentd-elasticsearch' } });
    assert.equal(result.value.spec.updateStrategy, undefined);
    assert.equal(result.value.spec.template.spec.restartPolicy, undefined);
    assert.equal(result.value.spec.template.spec.containers[0]!.image, 'quay.io/fluentd_elasticsearch/fluentd:v2.5.2');
    assert.deepEqual(result.value.spec.template.spec['volumes'], [{ name: 'varlog', hostPath: { path: '/var/log' } }]);
  });

  it('accepts the shared fluentd-elasticsearch.yaml (its DaemonSet document)', (t) => {
    if (!existsSync(SHARED_MANIFEST)) {
      t.skip(`${SHARED_MANIFEST} is not on this machine`);
      return;
    }
    const docs = parseAllDocuments(readFileSync(SHARED_MANIFEST, 'utf8')).map((d) => d.toJS() as Json);
    const daemonSets = docs.filter((d) => d['kind'] === 'DaemonSet');
    assert.equal(daemonSets.length, 1);
    const result = parseDaemonSet(daemonSets[0]);
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatFieldError).join('\n'));
    assert.equal(result.value.metadata.name, 'fluentd-elasticsearch');
  });

  const valid: readonly (readonly [string, readonly (string | number)[], unknown])[] = [
    ['revisionHistoryLimit 0 (zero is allowed)', ['spec', 'revisionHistoryLimit'], 0],
    ['minReadySeconds 0', ['spec', 'minReadySeconds'], 0],
    ['surge with an explicit maxUnavailable 0', RU, { maxUnavailable: 0, maxSurge: '10%' }],
    ['maxUnavailable 100%', RU, { maxUnavailable: '100%' }],
    ['OnDelete', ['spec', 'updateStrategy'], { type: 'OnDelete' }],
    ['restartPolicy Always', [...TPL, 'restartPolicy'], 'Always'],
    ['a matchExpressions selector that matches', ['spec', 'selector'], { matchExpressions: [{ key: 'name', operator: 'In', values: ['fluentd-elasticsearch', 'x'] }] }],
    ['a namespace-less manifest', ['metadata', 'namespace'], REMOVE],
    ['a toleration of every taint', [...TPL, 'tolerations'], [{ operator: 'Exists' }]],
    ['a NoExecute toleration with seconds', T0, { key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 30 }],
    ['node affinity with every operator', NA, { nodeSelectorTerms: [
      { matchExpressions: [
        { key: 'a', operator: 'In', values: ['x'] }, { key: 'b', operator: 'NotIn', values: ['y'] },
        { key: 'c', operator: 'Exists' }, { key: 'd', operator: 'DoesNotExist' },
        { key: 'e', operator: 'Gt', values: ['3'] }, { key: 'f', operator: 'Lt', values: ['20'] },
      ] },
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-1'] }] },
    ] }],
    ['null for an optional field', ['spec', 'minReadySeconds'], null],
  ];
  for (const [name, path, value] of valid) {
    it(`accepts ${name}`, () => {
      const result = parseDaemonSet(patched(path, value));
      assert.ok(result.ok, result.ok ? '' : result.errors.map(formatFieldError).join('\n'));
    });
  }
});

describe('parseDaemonSet: one rule per case, with its Kubernetes field path', () => {
  const long = (n: number) => 'a'.repeat(n);
  const cases: readonly { name: string; path: readonly (string | number)[]; value: unknown; errors: readonly string[] }[] = [
    { name: 'apiVersion must be apps/v1', path: ['apiVersion'], value: 'apps/v1beta2',
      errors: ['apiVersion: Unsupported value: "apps/v1beta2": supported values: "apps/v1"'] },
    { name: 'apiVersion is required', path: ['apiVersion'], value: REMOVE, errors: ['apiVersion: Required value'] },
    { name: 'kind must be DaemonSet', path: ['kind'], value: 'Deployment',
      errors: ['kind: Unsupported value: "Deployment": supported values: "DaemonSet"'] },
    { name: 'metadata.name is required', path: ['metadata', 'name'], value: REMOVE,
      errors: ['metadata.name: Required value: name or generateName is required'] },
    { name: 'metadata.name is a DNS-1123 subdomain', path: ['metadata', 'name'], value: 'Fluentd_ES',
      errors: ['metadata.name: Invalid value: "Fluentd_ES": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters'] },
    { name: 'metadata.name is at most 253 characters', path: ['metadata', 'name'], value: long(254),
      errors: [`metadata.name: Invalid value: "${long(254)}": must be no more than 253 characters`] },
    { name: 'metadata.namespace is a DNS-1123 label', path: ['metadata', 'namespace'], value: 'kube.system',
      errors: ['metadata.namespace: Invalid value: "kube.system": a lowercase RFC 1123 label must consist of'] },
    { name: 'metadata.namespace is at most 63 characters', path: ['metadata', 'namespace'], value: long(64),
      errors: [`metadata.namespace: Invalid value: "${long(64)}": must be no more than 63 characters`] },
    { name: 'label keys are qualified names', path: ['metadata', 'labels', '-bad'], value: 'x',
      errors: ['metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters'] },
    { name: 'label key prefixes are DNS subdomains', path: ['metadata', 'labels', 'Example.com/x'], value: 'x',
      errors: ['metadata.labels: Invalid value: "Example.com/x": prefix part a lowercase RFC 1123 subdomain'] },
    { name: 'label values are at most 63 characters', path: ['metadata', 'labels', 'k'], value: long(64),
      errors: [`metadata.labels: Invalid value: "${long(64)}": must be no more than 63 characters`] },
    { name: 'label values use the label alphabet', path: ['metadata', 'labels', 'k'], value: 'a b',
      errors: ['metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of'] },
    { name: 'label values are strings', path: ['metadata', 'labels', 'version'], value: 1,
      errors: ['metadata.labels[version]: Invalid value: 1: must be of type string'] },
    { name: 'annotation keys are qualified names', path: ['metadata', 'annotations', 'a b'], value: 'anything goes here!',
      errors: ['metadata.annotations: Invalid value: "a b": name part must consist of'] },
    { name: 'spec.selector is required', path: ['spec', 'selector'], value: REMOVE,
      errors: ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"name":"fluentd-elasticsearch"}: `selector` does not match template `labels`'] },
    { name: 'an empty selector is invalid for a daemonset', path: ['spec', 'selector'], value: {},
      errors: ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset'] },
    { name: 'the selector must match the template labels', path: ['spec', 'selector', 'matchLabels', 'name'], value: 'other',
      errors: ['spec.template.metadata.labels: Invalid value: {"name":"fluentd-elasticsearch"}: `selector` does not match template `labels`'] },
    { name: 'template labels are needed for the selector to match', path: ['spec', 'template', 'metadata'], value: REMOVE,
      errors: ['spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`'] },
    { name: 'selector label syntax', path: ['spec', 'selector', 'matchLabels', 'bad key'], value: 'x',
      errors: ['spec.selector.matchLabels: Invalid value: "bad key": name part must consist of'] },
    { name: 'matchExpressions operators', path: ['spec', 'selector', 'matchExpressions'], value: [{ key: 'name', operator: 'Equals', values: ['x'] }],
      errors: ['spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator'] },
    { name: 'matchExpressions In needs values', path: ['spec', 'selector', 'matchExpressions'], value: [{ key: 'name', operator: 'In' }],
      errors: ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"] },
    { name: 'matchExpressions Exists takes no values', path: ['spec', 'selector', 'matchExpressions'], value: [{ key: 'name', operator: 'Exists', values: ['x'] }],
      errors: ["spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"] },
    { name: 'template containers are required', path: [...TPL, 'containers'], value: [],
      errors: ['spec.template.spec.containers: Required value'] },
    { name: 'a container needs a name', path: [...C0, 'name'], value: REMOVE,
      errors: ['spec.template.spec.containers[0].name: Required value'] },
    { name: 'container names are DNS labels', path: [...C0, 'name'], value: 'Fluentd',
      errors: ['spec.template.spec.containers[0].name: Invalid value: "Fluentd": a lowercase RFC 1123 label'] },
    { name: 'container names are unique', path: [...TPL, 'containers'], value: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }],
      errors: ['spec.template.spec.containers[1].name: Duplicate value: "a"'] },
    { name: 'a container needs an image', path: [...C0, 'image'], value: REMOVE,
      errors: ['spec.template.spec.containers[0].image: Required value'] },
    { name: 'restartPolicy must be Always', path: [...TPL, 'restartPolicy'], value: 'Never',
      errors: ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'] },
    { name: 'activeDeadlineSeconds is forbidden', path: [...TPL, 'activeDeadlineSeconds'], value: 10,
      errors: ['spec.template.spec.activeDeadlineSeconds: Invalid value: 10: activeDeadlineSeconds in DaemonSet is not Supported'] },
    { name: 'minReadySeconds >= 0', path: ['spec', 'minReadySeconds'], value: -1,
      errors: ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0'] },
    { name: 'revisionHistoryLimit >= 0', path: ['spec', 'revisionHistoryLimit'], value: -1,
      errors: ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0'] },
    { name: 'updateStrategy.type is RollingUpdate or OnDelete', path: ['spec', 'updateStrategy'], value: { type: 'Recreate' },
      errors: ['spec.updateStrategy: Unsupported value: {"type":"Recreate"}: supported values: "RollingUpdate", "OnDelete"'] },
    { name: 'maxUnavailable is an int >= 0', path: RU, value: { maxUnavailable: -1 },
      errors: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0'] },
    { name: 'maxUnavailable is an int or a percentage', path: RU, value: { maxUnavailable: 1.5 },
      errors: ["spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 1.5: must be an integer or percentage (e.g '5%')",
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'] },
    { name: 'a percentage is digits and %', path: RU, value: { maxUnavailable: '5x', maxSurge: 0 },
      errors: ["spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"5x\": a valid percent string must be a numeric string followed by an ending '%'",
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'] },
    { name: 'maxUnavailable is at most 100%', path: RU, value: { maxUnavailable: '150%' },
      errors: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'] },
    { name: 'maxSurge is at most 100%', path: RU, value: { maxUnavailable: 0, maxSurge: '101%' },
      errors: ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "101%": must not be greater than 100%'] },
    { name: 'maxSurge with the default maxUnavailable', path: RU, value: { maxSurge: 1 },
      errors: ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero'] },
    { name: 'maxSurge and maxUnavailable both zero', path: RU, value: { maxUnavailable: 0, maxSurge: '0%' },
      errors: ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'] },
    { name: 'toleration Exists with a value', path: T0, value: { key: 'k', operator: 'Exists', value: 'v' },
      errors: ['spec.template.spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: value must be empty when `operator` is \'Exists\''] },
    { name: 'toleration operators', path: T0, value: { key: 'k', operator: 'Contains', value: 'v' },
      errors: ['spec.template.spec.tolerations[0].operator: Unsupported value: "Contains": supported values: "Equal", "Exists"'] },
    { name: 'toleration effects', path: T0, value: { key: 'k', operator: 'Exists', effect: 'NoRun' },
      errors: ['spec.template.spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'] },
    { name: 'tolerationSeconds only with NoExecute', path: T0, value: { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 },
      errors: ["spec.template.spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"] },
    { name: 'an empty toleration key needs Exists', path: T0, value: { operator: 'Equal', value: 'v' },
      errors: ['spec.template.spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty'] },
    { name: 'toleration values are label values', path: T0, value: { key: 'k', value: 'a b' },
      errors: ['spec.template.spec.tolerations[0].operator: Invalid value: "a b": a valid label must be'] },
    { name: 'nodeSelector label syntax', path: [...TPL, 'nodeSelector'], value: { 'disk type': 'ssd' },
      errors: ['spec.template.spec.nodeSelector: Invalid value: "disk type": name part must consist of'] },
    { name: 'node affinity needs a term', path: NA, value: { nodeSelectorTerms: [] },
      errors: ['spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term'] },
    { name: 'node affinity In needs values', path: NA, value: term({ key: 'a', operator: 'In', values: [] }),
      errors: [`${NA0}.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`] },
    { name: 'node affinity DoesNotExist takes no values', path: NA, value: term({ key: 'a', operator: 'DoesNotExist', values: ['x'] }),
      errors: [`${NA0}.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`] },
    { name: 'node affinity Gt needs one value', path: NA, value: term({ key: 'a', operator: 'Gt', values: ['1', '2'] }),
      errors: [`${NA0}.matchExpressions[0].values: Required value: must be specified single value when \`operator\` is 'Lt' or 'Gt'`] },
    { name: 'node affinity Lt needs an integer', path: NA, value: term({ key: 'a', operator: 'Lt', values: ['ten'] }),
      errors: [`${NA0}.matchExpressions[0].values[0]: Invalid value: "ten": must be an integer when \`operator\` is 'Lt' or 'Gt'`] },
    { name: 'node affinity operators', path: NA, value: term({ key: 'a', operator: 'Near', values: ['x'] }),
      errors: [`${NA0}.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`] },
    { name: 'matchFields only knows metadata.name', path: NA, value: term({ key: 'metadata.uid', operator: 'In', values: ['x'] }, 'matchFields'),
      errors: [`${NA0}.matchFields[0].key: Invalid value: "metadata.uid": not a valid field selector key`] },
    { name: 'matchFields only In and NotIn', path: NA, value: term({ key: 'metadata.name', operator: 'Exists' }, 'matchFields'),
      errors: [`${NA0}.matchFields[0].operator: Invalid value: "Exists": not a valid selector operator`] },
    { name: 'matchFields takes exactly one value', path: NA, value: term({ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }, 'matchFields'),
      errors: [`${NA0}.matchFields[0].values: Required value: must be only one value when \`operator\` is 'In' or 'NotIn' for node field selector`] },
    { name: 'a template that is not an object', path: ['spec', 'template'], value: 'fluentd',
      errors: ['spec.template: Invalid value: "fluentd": must be of type object'] },
    { name: 'containers that are not an array', path: [...TPL, 'containers'], value: { name: 'a' },
      errors: ['spec.template.spec.containers: Invalid value: {"name":"a"}: must be of type array'] },
    { name: 'a container that is not an object', path: [...TPL, 'containers', 0], value: 'nginx',
      errors: ['spec.template.spec.containers[0]: Invalid value: "nginx": must be of type object'] },
    { name: 'minReadySeconds that is a string', path: ['spec', 'minReadySeconds'], value: '5',
      errors: ['spec.minReadySeconds: Invalid value: "5": must be of type integer'] },
    { name: 'tolerations that are not an array', path: [...TPL, 'tolerations'], value: 'all',
      errors: ['spec.template.spec.tolerations: Invalid value: "all": must be of type array'] },
    { name: 'a command that is not a list of strings', path: [...C0, 'command'], value: ['run', 5],
      errors: ['spec.template.spec.containers[0].command[1]: Invalid value: 5: must be of type string'] },
    { name: 'a container port out of range', path: [...C0, 'ports'], value: [{ containerPort: 70000 }],
      errors: ['spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'] },
  ];
  for (const c of cases) {
    it(c.name, () => assertErrors(patched(c.path, c.value), c.errors));
  }
});

describe('parseDaemonSet: several errors', () => {
  it('reports every error of a manifest at once, in Kubernetes order', () => {
    let m = patched(['metadata', 'name'], 'Bad_Name');
    m = patched(['spec', 'selector'], {}, m);
    m = patched([...TPL, 'restartPolicy'], 'OnFailure', m);
    m = patched([...C0, 'image'], REMOVE, m);
    m = patched(['spec', 'minReadySeconds'], -5, m);
    m = patched(RU, { maxUnavailable: 0, maxSurge: 0 }, m);
    assertErrors(m, [
      'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain',
      'spec.selector: Invalid value: {}: empty selector is invalid for daemonset',
      'spec.template.spec.containers[0].image: Required value',
      'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
      'spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0',
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    ]);
  });

  it('a missing spec and metadata are both reported', () => {
    assertErrors({ apiVersion: 'apps/v1', kind: 'DaemonSet' }, ['metadata.name: Required value: name or generateName is required', 'spec: Required value']);
  });
});

describe('parseDaemonSet: garbage never throws', () => {
  const junk: readonly [string, unknown][] = [
    ['null', null], ['undefined', undefined], ['an array', [fluentd()]], ['a number', 42], ['a string', 'apiVersion: apps/v1'],
    ['a boolean', true], ['an empty object', {}], ['an object apiVersion', { apiVersion: {}, kind: [], metadata: 'x', spec: 7 }],
  ];
  for (const [name, value] of junk) {
    it(`refuses ${name} with errors`, () => {
      const errors = errorsOf(value);
      assert.ok(errors.length > 0);
      for (const e of errors) assert.equal(typeof formatFieldError(e), 'string');
    });
  }

  it('refuses a non-object input at <root>', () => {
    assertErrors(null, ['<root>: Invalid value: null: must be of type object']);
    assertErrors([], ['<root>: Invalid value: []: must be of type object']);
  });

  it('every field of the manifest replaced by every wrong JSON type: no throw, an error or a valid result', () => {
    const leaves: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      leaves.push(path);
      if (Array.isArray(v)) v.forEach((item, i) => walk(item, [...path, i]));
      else if (typeof v === 'object' && v !== null) for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
    };
    walk(fluentd(), []);
    const replacements: unknown[] = [null, 0, -1, 1.5, '', 'x', true, [], [null], {}, { a: { b: [1, { c: null }] } }];
    let checked = 0;
    for (const path of leaves.filter((p) => p.length > 0)) {
      for (const value of replacements) {
        const result = parseDaemonSet(patched(path, value));
        if (!result.ok) for (const e of result.errors) assert.ok(e.field.length > 0 && formatFieldError(e).length > 0);
        checked++;
      }
    }
    assert.ok(checked > 300, `only ${checked} variants`);
  });

  it('refuses deeply nested junk and cycles with a path', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 500; i++) deep = { a: [deep] };
    const errors = errorsOf(patched([...TPL, 'junk'], deep));
    assert.equal(errors.length, 1);
    assert.match(formatFieldError(errors[0]!), /^spec\.template\.spec\.junk(\.a\[0\])+.*: must not be nested more than 64 levels deep$/);

    const cyclic = fluentd();
    (cyclic['spec'] as Json)['self'] = cyclic;
    assertErrors(cyclic, ['spec.self: Invalid value: "...": must not refer to itself (a cycle)']);
  });
});

describe('validateDaemonSetUpdate', () => {
  const spec = (selector: DaemonSetSpec['selector']): DaemonSetSpec => ({
    selector,
    template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  });

  it('allows the same selector (empty lists and missing ones are the same)', () => {
    const old = defaultDaemonSetSpec(spec({ matchLabels: { app: 'a' } }));
    assert.deepEqual(validateDaemonSetUpdate(old, spec({ matchLabels: { app: 'a' }, matchExpressions: [] })), []);
  });

  it('refuses a changed selector: spec.selector is immutable', () => {
    const old = defaultDaemonSetSpec(spec({ matchLabels: { app: 'a' } }));
    const errors = validateDaemonSetUpdate(old, spec({ matchLabels: { app: 'b' } }));
    assert.deepEqual(errors.map(formatFieldError), ['spec.selector: Invalid value: {"matchLabels":{"app":"b"}}: field is immutable']);
  });
});

describe('formatFieldErrors (kubectl)', () => {
  it('one error on one line', () => {
    assert.equal(
      formatFieldErrors('DaemonSet', 'x', [{ field: 'spec.selector', type: 'Required', detail: '' }]),
      'The DaemonSet "x" is invalid: spec.selector: Required value',
    );
  });

  it('several errors as a list, duplicates once', () => {
    const errors: FieldError[] = [
      { field: 'spec.a', type: 'Invalid', value: 3, detail: 'must be even' },
      { field: 'spec.b', type: 'NotSupported', value: 'Never', detail: 'supported values: "Always"' },
      { field: 'spec.a', type: 'Invalid', value: 3, detail: 'must be even' },
      { field: 'spec.c', type: 'Forbidden', detail: 'not here' },
      { field: 'spec.d', type: 'Duplicate', value: 'a', detail: '' },
      { field: 'spec.e', type: 'Invalid', value: { k: ['v'] }, detail: 'bad' },
    ];
    assert.equal(
      formatFieldErrors('DaemonSet', 'x', errors),
      'The DaemonSet "x" is invalid: \n' +
        '* spec.a: Invalid value: 3: must be even\n' +
        '* spec.b: Unsupported value: "Never": supported values: "Always"\n' +
        '* spec.c: Forbidden: not here\n' +
        '* spec.d: Duplicate value: "a"\n' +
        '* spec.e: Invalid value: {"k":["v"]}: bad',
    );
  });
});
