import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { defaultDaemonSetSpec, defaultPullPolicy } from '../../libs/model/mod.js';
import type { DaemonSetSpec, DefaultedDaemonSetSpec } from '../../libs/model/mod.js';

const minimal: DaemonSetSpec = {
  selector: { matchLabels: { app: 'agent' } },
  template: {
    metadata: { labels: { app: 'agent' } },
    spec: { containers: [{ name: 'agent', image: 'example/agent:1.2' }] },
  },
};

describe('defaultDaemonSetSpec (SetDefaults_DaemonSet + pod defaults)', () => {
  it('fills every apps/v1 and pod-spec default kubectl shows', () => {
    const expected: DefaultedDaemonSetSpec = {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: {
          containers: [
            {
              name: 'agent',
              image: 'example/agent:1.2',
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              resources: {},
            } as DaemonSetSpec['template']['spec']['containers'][number],
          ],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          terminationGracePeriodSeconds: 30,
          schedulerName: 'default-scheduler',
          securityContext: {},
        },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      minReadySeconds: 0,
      revisionHistoryLimit: 10,
    };
    assert.deepEqual(defaultDaemonSetSpec(minimal), expected);
  });

  it('keeps what the user set', () => {
    const spec: DaemonSetSpec = {
      ...minimal,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      minReadySeconds: 15,
      revisionHistoryLimit: 0,
      template: {
        ...minimal.template,
        spec: { ...minimal.template.spec, dnsPolicy: 'ClusterFirstWithHostNet', terminationGracePeriodSeconds: 5 },
      },
    };
    const d = defaultDaemonSetSpec(spec);
    assert.deepEqual(d.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    assert.equal(d.minReadySeconds, 15);
    assert.equal(d.revisionHistoryLimit, 0);
    assert.equal(d.template.spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(d.template.spec.terminationGracePeriodSeconds, 5);
  });

  it('fills only the missing rollingUpdate field', () => {
    const onlySurge = defaultDaemonSetSpec({ ...minimal, updateStrategy: { rollingUpdate: { maxSurge: 2 } } });
    assert.deepEqual(onlySurge.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 2 } });
    const onlyUnavailable = defaultDaemonSetSpec({ ...minimal, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } } });
    assert.deepEqual(onlyUnavailable.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } });
  });

  it('OnDelete gets no rollingUpdate', () => {
    assert.deepEqual(defaultDaemonSetSpec({ ...minimal, updateStrategy: { type: 'OnDelete' } }).updateStrategy, { type: 'OnDelete' });
  });

  it('defaults ports, probes and host ports with hostNetwork', () => {
    const d = defaultDaemonSetSpec({
      ...minimal,
      template: {
        ...minimal.template,
        spec: {
          hostNetwork: true,
          containers: [{
            name: 'agent',
            image: 'example/agent',
            ports: [{ containerPort: 9100 }],
            readinessProbe: { httpGet: { port: 9100 } },
          }],
        },
      },
    });
    const c = d.template.spec.containers[0]!;
    assert.equal(c.imagePullPolicy, 'Always');
    assert.deepEqual(c.ports, [{ containerPort: 9100, protocol: 'TCP', hostPort: 9100 }]);
    assert.deepEqual(c.readinessProbe, {
      httpGet: { port: 9100, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
    });
  });

  it('is idempotent: defaulting a defaulted spec gives a deep-equal spec', () => {
    const specs: DaemonSetSpec[] = [
      minimal,
      { ...minimal, updateStrategy: { type: 'OnDelete' } },
      { ...minimal, updateStrategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } },
      {
        ...minimal,
        template: {
          spec: {
            hostNetwork: true,
            initContainers: [{ name: 'init', image: 'busybox' }],
            containers: [{ name: 'a', image: 'x@sha256:abc', ports: [{ containerPort: 80 }], livenessProbe: { tcpSocket: { port: 80 } } }],
          },
        },
      },
    ];
    for (const spec of specs) {
      const once = defaultDaemonSetSpec(spec);
      assert.deepEqual(defaultDaemonSetSpec(once), once);
    }
  });

  it('does not modify its input', () => {
    const input = structuredClone(minimal);
    defaultDaemonSetSpec(input);
    assert.deepEqual(input, minimal);
  });
});

describe('defaultPullPolicy (SetDefaults_Container)', () => {
  const cases: readonly [string, 'Always' | 'IfNotPresent'][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['quay.io/fluentd_elasticsearch/fluentd:v2.5.2', 'IfNotPresent'],
    ['localhost:5000/agent', 'Always'],
    ['localhost:5000/agent:latest', 'Always'],
    ['localhost:5000/agent:2', 'IfNotPresent'],
    ['agent@sha256:0123456789abcdef', 'IfNotPresent'],
    ['agent:latest@sha256:0123456789abcdef', 'Always'],
  ];
  for (const [image, policy] of cases) {
    it(`${image} -> ${policy}`, () => assert.equal(defaultPullPolicy(image), policy));
  }
});
