// Property-based fuzzing of the manifest input path: YAML and JSON text → parseManifests
// (services/cli/apply.ts) → parseDaemonSet (libs/model/validate.ts). Seeded (FUZZ_SEEDS).
//
// Properties, for every text:
// - parseManifests resolves or throws a CliError, nothing else;
// - every refusal is a YAML parse error naming the document, or a DaemonSet refusal whose every
//   error names a field path (`metadata…`, `spec…`, `apiVersion`, `kind`);
// - every DaemonSet that passes has a name and namespace that are single subject tokens after
//   escaping and unescape to themselves, and validates again as it is;
// - nothing reaches Object.prototype.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';

import { parseDaemonSet } from '../../libs/model/validate.js';
import { escapeToken, unescapeToken } from '../../libs/topology/escape.js';
import { dsSubject } from '../../libs/topology/names.js';
import { parseManifests, type ParsedDocuments } from '../../services/cli/apply.js';
import { CliError } from '../../services/cli/errors.js';
import { FUZZ_SEEDS, HOSTILE_STRINGS, MUTATION_KINDS, chance, intBelow, mulberry32, mutate, pick, randomJson, randomName, setOwn, type MutationKind, type Rng } from '../support/arbitrary.js';

const MANIFESTS_PER_SEED = 1000;
const SOURCE = 'fuzz.yaml';
const SUBJECT_TOKEN = /^[A-Za-z0-9_%-]+$/;
/** A field path as libs/model/validate.ts prints it, at the start of an error. */
const FIELD_PATH = /^(apiVersion|kind|metadata|spec)(\.|\[|:| )/;

const counts = { texts: 0, accepted: 0, daemonSets: 0, yamlErrors: 0, refusals: 0, fieldErrors: 0 };
after(() => process.stdout.write(`# fuzz-manifests: ${JSON.stringify(counts)}\n`));

const SAMPLE = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'fluentd-elasticsearch', namespace: 'kube-system', labels: { 'k8s-app': 'fluentd-logging' }, annotations: { note: 'x' } },
  spec: {
    selector: { matchLabels: { name: 'fluentd-elasticsearch' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } },
    minReadySeconds: 5,
    revisionHistoryLimit: 3,
    template: {
      metadata: { labels: { name: 'fluentd-elasticsearch', tier: 'a' } },
      spec: {
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'dedicated', operator: 'Equal', value: 'logs', effect: 'NoExecute', tolerationSeconds: 30 },
        ],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }],
            },
          },
        },
        containers: [
          {
            name: 'fluentd-elasticsearch',
            image: 'quay.io/fluentd_elasticsearch/fluentd:v2.5.2',
            command: ['fluentd'],
            env: [{ name: 'LEVEL', value: 'info' }],
            ports: [{ containerPort: 24224, protocol: 'TCP' }],
            readinessProbe: { tcpSocket: { port: 24224 }, periodSeconds: 5 },
            resources: { limits: { memory: '200Mi' } },
          },
        ],
        terminationGracePeriodSeconds: 30,
      },
    },
  },
};

function asJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // a BigInt: JSON has none
  }
}

function asYaml(value: unknown): string | undefined {
  try {
    return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
  } catch {
    return undefined; // the yaml library's own recursion limit (1000 levels deep)
  }
}

/** Damage done to the text itself: what a person or a hostile file can do that no serializer does. */
function damageText(rng: Rng, text: string): { text: string; what: string } {
  const lines = text.split('\n');
  const at = intBelow(rng, Math.max(1, lines.length));
  switch (intBelow(rng, 7)) {
    case 0:
      return { text: text.slice(0, intBelow(rng, text.length + 1)), what: 'truncated' };
    case 1:
      lines.splice(at, 0, lines[at] ?? ''); // the same key twice
      return { text: lines.join('\n'), what: 'duplicated line' };
    case 2:
      lines[at] = `\t${lines[at] ?? ''}`;
      return { text: lines.join('\n'), what: 'tab indentation' };
    case 3:
      return { text: `${text}\n---\n${text}`, what: 'two documents' };
    case 4:
      return { text: `${text}\n---\napiVersion: v1\nkind: ${pick(rng, ['Namespace', 'ConfigMap', 'List', 'Deployment'])}\nmetadata: {name: x}\n`, what: 'another kind' };
    case 5:
      return { text: `%YAML 1.2\n---\n${text}`, what: 'directive' };
    default: {
      const pos = intBelow(rng, text.length + 1);
      return { text: text.slice(0, pos) + pick(rng, ['&a ', '*a', '!!binary ', '!foo ', '? ', '{', ']', '"', "'", '#', '\u0000', '\ufeff', ': ']) + text.slice(pos), what: 'inserted token' };
    }
  }
}

/**
 * Big maps, huge strings and deep nesting cost the yaml parser 5-20 ms a manifest (a small one
 * ~0.5 ms): one mutation in fifty is one of them; the fixed cases below take them to 10 MB and
 * 10,000 keys.
 */
const EXPENSIVE_KINDS: readonly MutationKind[] = ['big-map', 'huge-string', 'deep-nesting'];
const CHEAP_KINDS: readonly MutationKind[] = MUTATION_KINDS.filter((k) => !EXPENSIVE_KINDS.includes(k));

function kindFor(rng: Rng): MutationKind {
  return chance(rng, 0.02) ? pick(rng, EXPENSIVE_KINDS) : pick(rng, CHEAP_KINDS);
}

function randomText(rng: Rng): { text: string; what: string } {
  const r = rng();
  let value: unknown;
  let what: string;
  /** Deep or huge values as JSON: the yaml library's stringify takes quadratic time on deep nesting. */
  let big = false;
  if (r < 0.75) {
    let m = mutate(rng, SAMPLE, kindFor(rng));
    big = EXPENSIVE_KINDS.includes(m.kind);
    if (chance(rng, 0.3)) {
      m = mutate(rng, m.value, kindFor(rng));
      big ||= EXPENSIVE_KINDS.includes(m.kind);
    }
    value = m.value;
    what = `${m.kind} at ${m.path}`;
  } else if (r < 0.85) {
    value = { ...SAMPLE, metadata: { ...SAMPLE.metadata, name: randomName(rng), namespace: randomName(rng) } };
    what = 'random names';
  } else if (r < 0.95) {
    value = randomJson(rng, 5);
    what = 'random value';
  } else {
    value = { apiVersion: 'v1', kind: 'List', items: [SAMPLE, randomJson(rng, 2), { ...SAMPLE, kind: pick(rng, ['Namespace', 'Pod', 42, null]) }] };
    what = 'List';
  }
  const yaml = !big && chance(rng, 0.6) ? asYaml(value) : undefined;
  const json = yaml === undefined ? asJson(value) : undefined;
  const base =
    yaml !== undefined ? { text: yaml, what: `${what} as YAML` } : json !== undefined ? { text: json, what: `${what} as JSON` } : { text: '', what: `${what} (unserializable)` };
  if (!chance(rng, 0.2)) return base;
  const damaged = damageText(rng, base.text);
  return { text: damaged.text, what: `${base.what}, ${damaged.what}` };
}

/** Terminal controls (C0 but the newline, DEL, C1): a refusal quoting a hostile key must not print them raw. */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Each problem of a refusal: a YAML error naming the document, or a DaemonSet refusal naming field paths. */
function assertRefusal(message: string, label: string): void {
  const lines = message.split('\n');
  let current: 'yaml' | 'list' | undefined;
  for (const line of lines) {
    if (line.startsWith(`error parsing ${SOURCE} (document `)) {
      assert.match(line, /^error parsing fuzz\.yaml \(document \d+\): \S/, label);
      counts.yamlErrors++;
      current = 'yaml';
      continue;
    }
    const invalid = /^The (?:DaemonSet|Namespace) ".*" is invalid: (.*)$/s.exec(line);
    if (invalid || current === 'list') {
      // A validation refusal echoes keys and values from the manifest: escaped, never raw.
      assert.ok(!TERMINAL_CONTROL.test(line), `${label}: raw control character in ${JSON.stringify(line.slice(0, 200))}`);
    }
    if (invalid) {
      counts.refusals++;
      const rest = invalid[1]!;
      if (rest === '') current = 'list';
      else {
        assert.match(rest, FIELD_PATH, `${label}: refusal without a field path: ${line.slice(0, 200)}`);
        counts.fieldErrors++;
        current = undefined;
      }
      continue;
    }
    if (current === 'list' && line.startsWith('* ')) {
      assert.match(line.slice(2), FIELD_PATH, `${label}: error without a field path: ${line.slice(0, 200)}`);
      counts.fieldErrors++;
      continue;
    }
    // Only a YAML error's own context lines (the source excerpt and its caret) may follow it.
    assert.equal(current, 'yaml', `${label}: unexpected line in the refusal: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

function assertAccepted(parsed: ParsedDocuments, label: string): void {
  counts.accepted++;
  for (const ds of parsed.daemonSets) {
    counts.daemonSets++;
    const namespace = ds.metadata.namespace ?? 'default';
    for (const name of [ds.metadata.name, namespace]) {
      const token = escapeToken(name);
      assert.match(token, SUBJECT_TOKEN, `${label}: ${JSON.stringify(name)}`);
      assert.equal(unescapeToken(token), name, label);
    }
    assert.equal(dsSubject(1, namespace, ds.metadata.name).split('.').length, 5, label);
    assert.equal(parseDaemonSet(ds).ok, true, `${label}: an accepted manifest does not validate again`);
  }
  for (const s of parsed.skipped) assert.equal(typeof s, 'string', label);
}

/** parseManifests on one text: resolves, or throws a CliError with a well-formed refusal. */
async function check(text: string, label: string): Promise<ParsedDocuments | CliError> {
  counts.texts++;
  try {
    const parsed = await parseManifests(text, SOURCE);
    assertAccepted(parsed, label);
    return parsed;
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err instanceof CliError, `${label}: threw ${err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : String(err)}`);
    assertRefusal(err.message, label);
    return err;
  }
}

describe('fuzz: manifests (parseManifests)', () => {
  it('the sample manifest passes, as YAML and as JSON', async () => {
    for (const text of [asYaml(SAMPLE) ?? '', JSON.stringify(SAMPLE)]) {
      const r = await check(text, 'sample');
      assert.ok(!(r instanceof CliError), r instanceof CliError ? r.message : '');
      assert.deepEqual(r.daemonSets.map((d) => d.metadata.name), ['fluentd-elasticsearch']);
    }
  });

  for (const seed of FUZZ_SEEDS) {
    it(`${MANIFESTS_PER_SEED} mutated and random manifests (seed ${seed})`, async () => {
      const rng = mulberry32(seed ^ 0x3a71f);
      for (let i = 0; i < MANIFESTS_PER_SEED; i++) {
        const { text, what } = randomText(rng);
        await check(text, `seed ${seed} #${i} (${what})`);
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted');
    });
  }
});

/** An alias bomb: each level refers to the previous one `width` times. */
function aliasBomb(levels: number, width: number): string {
  let text = 'a0: &a0 ["lol"]\n';
  for (let i = 1; i <= levels; i++) text += `a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]\n`;
  return text;
}

function labelMap(n: number): string {
  let text = '';
  for (let i = 0; i < n; i++) text += `      key-${i}: v\n`;
  return text;
}

const DS_HEAD = 'apiVersion: apps/v1\nkind: DaemonSet\n';
const DS_SPEC = `spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: busybox}]}
`;

describe('hostile manifests (fixed cases)', () => {
  const cases: readonly { readonly name: string; readonly text: () => string; readonly refusal?: RegExp; readonly daemonSets?: readonly string[] }[] = [
    { name: 'an alias bomb (9 levels of 9)', text: () => aliasBomb(9, 9), refusal: /^error parsing fuzz\.yaml \(document 1\): Excessive alias count indicates a resource exhaustion attack$/ },
    {
      name: 'an alias bomb inside a DaemonSet',
      text: () => `${DS_HEAD}metadata:\n  name: x\n  annotations:\n${aliasBomb(6, 10).replace(/^/gm, '    ')}${DS_SPEC}`,
      refusal: /^error parsing fuzz\.yaml \(document 1\): Excessive alias count/,
    },
    {
      name: 'an alias to its own anchor (a cycle)',
      text: () => `${DS_HEAD}metadata: &m {name: x, self: *m}\n${DS_SPEC}`,
      refusal: /^The DaemonSet "x" is invalid: metadata\.self: Invalid value: "\.\.\.": must not refer to itself \(a cycle\)$/,
    },
    {
      name: 'a 10 MB string as the image',
      text: () => `${DS_HEAD}metadata: {name: big}\n${DS_SPEC.replace('busybox', `"${'x'.repeat(10_000_000)}"`)}`,
      daemonSets: ['big'],
    },
    {
      name: 'a 10 MB name',
      text: () => `${DS_HEAD}metadata: {name: ${'x'.repeat(10_000_000)}}\n${DS_SPEC}`,
      refusal: /^The DaemonSet "x+" is invalid: metadata\.name: Invalid value: "x+": must be no more than 253 characters$/,
    },
    {
      name: 'a 10,000-key label map',
      text: () => `${DS_HEAD}metadata:\n  name: many\n  labels:\n${labelMap(10_000).replace(/^ {6}/gm, '    ')}${DS_SPEC}`,
      daemonSets: ['many'],
    },
    {
      name: 'a 10,000-key label map with one key twice',
      text: () => `${DS_HEAD}metadata:\n  name: many\n  labels:\n${labelMap(10_000).replace(/^ {6}/gm, '    ')}    key-5000: again\n${DS_SPEC}`,
      refusal: /^error parsing fuzz\.yaml \(document 1\): Map keys must be unique at line 10006, column 5: "key-5000"$/,
    },
    { name: 'duplicate keys', text: () => `${DS_HEAD}metadata: {name: a}\nmetadata: {name: b}\n${DS_SPEC}`, refusal: /^error parsing fuzz\.yaml \(document 1\): Map keys must be unique at line 4, column 1: "metadata"$/ },
    { name: 'duplicate keys in JSON', text: () => '{"apiVersion": "apps/v1", "kind": "DaemonSet", "kind": "Pod"}', refusal: /^error parsing fuzz\.yaml \(document 1\): Map keys must be unique at line 1, column 48: "kind"$/ },
    { name: 'tab indentation', text: () => `${DS_HEAD}metadata:\n\tname: x\n${DS_SPEC}`, refusal: /^error parsing fuzz\.yaml \(document 1\): Tabs are not allowed as indentation/ },
    { name: 'deep nesting (10,000 flow levels)', text: () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`, refusal: /^error parsing fuzz\.yaml \(document 1\): / },
    {
      name: 'deep nesting inside a DaemonSet (100 levels)',
      text: () => `${DS_HEAD}metadata: {name: deep, annotations: {a: "b"}}\n${DS_SPEC.replace('image: busybox', `image: busybox, resources: ${'{a: '.repeat(100)}1${'}'.repeat(100)}`)}`,
      refusal: /^The DaemonSet "deep" is invalid: spec\.template\.spec\.containers\[0\]\.resources(\.a)+: Invalid value: "\.\.\.": must not be nested more than 64 levels deep$/,
    },
    {
      name: 'three documents: a Namespace, a DaemonSet and an empty one',
      text: () => `apiVersion: v1\nkind: Namespace\nmetadata: {name: logging}\n---\n${DS_HEAD}metadata: {name: one}\n${DS_SPEC}---\n`,
      daemonSets: ['one'],
    },
    {
      name: 'a bad second document is named as such',
      text: () => `${DS_HEAD}metadata: {name: one}\n${DS_SPEC}---\nkey: [unclosed\n`,
      refusal: /^error parsing fuzz\.yaml \(document 2\): /,
    },
    { name: 'a List holding a DaemonSet', text: () => JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [SAMPLE] }), daemonSets: ['fluentd-elasticsearch'] },
    {
      name: '__proto__ and constructor keys',
      text: () => `${DS_HEAD}__proto__: {polluted: true}\nconstructor: {prototype: {polluted: true}}\nmetadata: {name: proto, labels: {__proto__: x}}\n${DS_SPEC}`,
      refusal: /^The DaemonSet "proto" is invalid: /,
    },
    { name: 'unicode names', text: () => `${DS_HEAD}metadata: {name: "日本語", namespace: "ü"}\n${DS_SPEC}`, refusal: /^The DaemonSet "日本語" is invalid: \n\* metadata\.name: Invalid value: "日本語": a lowercase RFC 1123 subdomain/ },
    { name: 'NaN and Infinity where integers belong', text: () => `${DS_HEAD}metadata: {name: nan}\n${DS_SPEC}  minReadySeconds: .nan\n  revisionHistoryLimit: .inf\n`, refusal: /^The DaemonSet "nan" is invalid: \n\* spec\.minReadySeconds: Invalid value: NaN: must be of type integer\n\* spec\.revisionHistoryLimit: Invalid value: Infinity: must be of type integer$/ },
    { name: 'binary and set tags', text: () => `${DS_HEAD}metadata: {name: tags, labels: !!binary aGVsbG8=}\n${DS_SPEC}`, refusal: /^The DaemonSet "tags" is invalid: \n\* metadata\.labels\[0\]: Invalid value: 104: must be of type string/ },
  ];
  for (const c of cases) {
    it(`refuses or accepts ${c.name} without throwing anything but a CliError`, async () => {
      const r = await check(c.text(), c.name);
      if (c.refusal) {
        assert.ok(r instanceof CliError, `${c.name}: accepted`);
        assert.match(r.message, c.refusal);
      } else {
        assert.ok(!(r instanceof CliError), r instanceof CliError ? r.message.slice(0, 300) : '');
        assert.deepEqual(r.daemonSets.map((d) => d.metadata.name), c.daemonSets);
      }
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted');
    });
  }
});

describe('hostile identities in manifests', () => {
  // Every name the manifest validators accept is a DNS-1123 name: one subject token once escaped.
  const names = [...HOSTILE_STRINGS, 'a.b.c', 'a--b', '0', 'a'.repeat(63), 'a'.repeat(64), `${'a'.repeat(63)}.${'b'.repeat(63)}`];
  for (const name of names) {
    it(`metadata.name and .namespace ${JSON.stringify(name).slice(0, 40)}: refused with the field path, or one subject token`, async () => {
      const manifest: Record<string, unknown> = { ...SAMPLE };
      const metadata: Record<string, unknown> = {};
      setOwn(metadata, 'name', name);
      setOwn(metadata, 'namespace', name);
      manifest['metadata'] = metadata;
      const r = await check(JSON.stringify(manifest), name);
      if (r instanceof CliError) {
        assert.match(r.message, /metadata\.(name|namespace): /, r.message.slice(0, 300));
        return;
      }
      assert.equal(r.daemonSets.length, 1);
      assert.equal(r.daemonSets[0]!.metadata.name, name);
    });
  }
});
