import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SAFE_ALPHABET, canonicalJson, fnv32a, safeEncodeString, templateHash } from '../../libs/core/template-hash.js';
import type { PodTemplateSpec } from '../../libs/model/types.js';

const template: PodTemplateSpec = {
  metadata: { labels: { name: 'fluentd' } },
  spec: { containers: [{ name: 'fluentd', image: 'fluentd:v1', args: ['-c', '/etc/fluent.conf'] }], restartPolicy: 'Always' },
};

describe('fnv32a and safeEncodeString (hash/fnv, rand.SafeEncodeString)', () => {
  it('FNV-1a 32 of known inputs', () => {
    const bytes = (s: string) => [...s].map((c) => c.charCodeAt(0));
    assert.equal(fnv32a([]), 0x811c9dc5);
    assert.equal(fnv32a(bytes('a')), 0xe40c292c);
    assert.equal(fnv32a(bytes('foobar')), 0xbf9cf968);
  });

  it('maps decimal digits onto the safe alphabet as Kubernetes does', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
    assert.equal(SAFE_ALPHABET, 'bcdfghjklmnpqrstvwxz2456789');
  });
});

describe('templateHash (ComputeHash)', () => {
  it('is the safe encoding of the decimal FNV-32a of the canonical JSON', () => {
    const bytes = [...new TextEncoder().encode(canonicalJson(template))];
    assert.equal(templateHash(template), safeEncodeString(String(fnv32a(bytes))));
  });

  it('is deterministic and uses only the safe alphabet', () => {
    const h = templateHash(template);
    assert.equal(templateHash(structuredClone(template)), h);
    assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  it('does not depend on key order', () => {
    const reordered: PodTemplateSpec = {
      spec: { restartPolicy: 'Always', containers: [{ args: ['-c', '/etc/fluent.conf'], image: 'fluentd:v1', name: 'fluentd' }] },
      metadata: { labels: { name: 'fluentd' } },
    };
    assert.equal(templateHash(reordered), templateHash(template));
  });

  it('ignores undefined members (absent and undefined are the same template)', () => {
    const withUndefined: PodTemplateSpec = { ...template, spec: { ...template.spec, nodeName: undefined } };
    assert.equal(templateHash(withUndefined), templateHash(template));
  });

  it('differs for different templates', () => {
    const variants: PodTemplateSpec[] = [
      template,
      { ...template, spec: { ...template.spec, containers: [{ name: 'fluentd', image: 'fluentd:v2', args: ['-c', '/etc/fluent.conf'] }] } },
      { ...template, metadata: { labels: { name: 'fluentd' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } },
      { ...template, spec: { ...template.spec, containers: [{ name: 'fluentd', image: 'fluentd:v1', args: ['/etc/fluent.conf', '-c'] }] } },
      { ...template, spec: { ...template.spec, nodeSelector: { disk: 'ssd' } } },
      { ...template, spec: { ...template.spec, hostNetwork: false } },
    ];
    const hashes = variants.map((t) => templateHash(t));
    assert.equal(new Set(hashes).size, variants.length, hashes.join(' '));
  });

  it('mixes in the collision count; 0 is the unset count', () => {
    const h0 = templateHash(template);
    assert.equal(templateHash(template, 0), h0);
    const h1 = templateHash(template, 1);
    const h2 = templateHash(template, 2);
    assert.notEqual(h1, h0);
    assert.notEqual(h2, h1);
    const bytes = [...new TextEncoder().encode(canonicalJson(template))];
    assert.equal(h1, safeEncodeString(String(fnv32a([1, 0, 0, 0, 0, 0, 0, 0], fnv32a(bytes)))));
  });

  it('hashes non-ASCII text as UTF-8', () => {
    const t: PodTemplateSpec = { metadata: { annotations: { note: 'café ☕ 𝄞' } }, spec: { containers: [] } };
    const bytes = [...new TextEncoder().encode(canonicalJson(t))];
    assert.equal(templateHash(t), safeEncodeString(String(fnv32a(bytes))));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
