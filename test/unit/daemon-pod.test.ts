import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DAEMON_TOLERATIONS, daemonPodSpec, daemonTolerations, targetNodeName } from '../../libs/core/daemon-pod.js';
import type { PodSpec, Toleration } from '../../libs/model/types.js';

const base: PodSpec = { containers: [{ name: 'agent', image: 'agent:1' }] };

const AUTO: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const NETWORK: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

describe('DAEMON_TOLERATIONS (reference §2 table)', () => {
  it('lists the seven automatic tolerations, network-unavailable only with hostNetwork', () => {
    assert.deepEqual(DAEMON_TOLERATIONS.map((d) => d.toleration), [...AUTO, NETWORK]);
    assert.deepEqual(DAEMON_TOLERATIONS.filter((d) => d.hostNetworkOnly).map((d) => d.toleration.key), ['node.kubernetes.io/network-unavailable']);
  });
});

describe('daemonTolerations (AddOrUpdateDaemonPodTolerations)', () => {
  it('adds the six automatic tolerations to a template without any', () => {
    assert.deepEqual(daemonTolerations(base), AUTO);
  });

  it('adds network-unavailable with hostNetwork', () => {
    assert.deepEqual(daemonTolerations({ ...base, hostNetwork: true }), [...AUTO, NETWORK]);
  });

  it('keeps the template tolerations first', () => {
    const own: Toleration = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
    assert.deepEqual(daemonTolerations({ ...base, tolerations: [own] }), [own, ...AUTO]);
  });

  it('does not duplicate a toleration the template already has', () => {
    const tolerations = daemonTolerations({ ...base, tolerations: [AUTO[3]!] });
    assert.equal(tolerations.length, AUTO.length);
    assert.deepEqual(tolerations[0], AUTO[3]);
  });

  it('replaces a matching template toleration in place, dropping its tolerationSeconds', () => {
    const withSeconds: Toleration = { ...AUTO[0]!, tolerationSeconds: 300 };
    const tolerations = daemonTolerations({ ...base, tolerations: [withSeconds] });
    assert.deepEqual(tolerations, AUTO);
  });

  it('keeps a template toleration that differs in operator (MatchToleration compares it)', () => {
    const equalOp: Toleration = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', tolerationSeconds: 60 };
    assert.deepEqual(daemonTolerations({ ...base, tolerations: [equalOp] }), [equalOp, ...AUTO]);
  });
});

describe('daemonPodSpec (CreatePodTemplate + ReplaceDaemonSetPodNodeNameNodeAffinity)', () => {
  const pin = (node: string) => ({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [node] }] }] });

  it('pins a template without affinity to the node, adds tolerations, sets no nodeName', () => {
    const spec = daemonPodSpec(base, 'node-1');
    assert.deepEqual(spec, {
      ...base,
      tolerations: AUTO,
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: pin('node-1') } },
    });
    assert.equal(spec.nodeName, undefined);
    assert.equal(targetNodeName(spec), 'node-1');
  });

  it('replaces the required node affinity and keeps preferred terms and pod affinity', () => {
    const preferred = [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }];
    const podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [] };
    const template: PodSpec = {
      ...base,
      affinity: {
        podAffinity,
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'color', operator: 'In', values: ['blue'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['x'] }] }],
          },
          preferredDuringSchedulingIgnoredDuringExecution: preferred,
        },
      },
    };
    assert.deepEqual(daemonPodSpec(template, 'node-2').affinity, {
      podAffinity,
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: pin('node-2'), preferredDuringSchedulingIgnoredDuringExecution: preferred },
    });
  });

  it('does not modify the template', () => {
    const template: PodSpec = { ...base, tolerations: [{ key: 'k', operator: 'Exists' }] };
    const copy = structuredClone(template);
    daemonPodSpec(template, 'node-3');
    assert.deepEqual(template, copy);
  });

  it('targetNodeName prefers nodeName, then the matchFields pin', () => {
    assert.equal(targetNodeName({ ...base, nodeName: 'n1' }), 'n1');
    assert.equal(targetNodeName(base), undefined);
  });
});
