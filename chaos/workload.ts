// The DaemonSet every repetition rolls out: the shape of the Kubernetes docs' fluentd-elasticsearch
// example (tolerations, resources, a hostPath volume) with a container the process driver can
// run: `sleep`. Rolling update one node at a time; minReadySeconds makes each node take seconds.

import { dsSlot } from '../libs/topology/slot.js';
import { MARKER_VAR } from './leftovers.js';

export const WORKLOAD_NAMESPACE = 'kube-system';
export const WORKLOAD_NAME = 'fluentd-elasticsearch';
export const WORKLOAD_CONTAINER = 'fluentd-elasticsearch';
export const WORKLOAD_SELECTOR = 'name=fluentd-elasticsearch';
export const MAX_UNAVAILABLE = 1;

/** The image of revision `revision` (1 for the first apply, 2 for the rollout). */
export function workloadImage(revision: number): string {
  return `quay.io/fluentd_elasticsearch/fluentd:v2.5.${revision}`;
}

/** The manifest, as JSON (which `dsctl apply -f -` reads as YAML). */
export function workloadManifest(minReadySeconds: number, marker: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: WORKLOAD_NAME, namespace: WORKLOAD_NAMESPACE, labels: { 'k8s-app': 'fluentd-logging' } },
    spec: {
      selector: { matchLabels: { name: WORKLOAD_NAME } },
      minReadySeconds,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: MAX_UNAVAILABLE } },
      template: {
        metadata: { labels: { name: WORKLOAD_NAME } },
        spec: {
          tolerations: [
            { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
          ],
          containers: [
            {
              name: WORKLOAD_CONTAINER,
              image: workloadImage(1),
              command: ['sleep', '100000'],
              // The marker lets the suite find a pod process that outlived its agent.
              env: [{ name: MARKER_VAR, value: marker }],
              resources: { limits: { memory: '200Mi' }, requests: { cpu: '100m', memory: '200Mi' } },
              volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }],
            },
          ],
          terminationGracePeriodSeconds: 2,
          volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
        },
      },
    },
  });
}

/** The shard slot of the workload, for a topology of `slots` slots. */
export function workloadSlot(slots: number): number {
  return dsSlot(WORKLOAD_NAMESPACE, WORKLOAD_NAME, slots);
}
