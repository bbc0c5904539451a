// The fluentd-elasticsearch example from the Kubernetes docs, for tests: the shared copy
// (../shared/manifests beside the repository) when it is there, else this inline copy of it.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

export const SHARED_FLUENTD = join(REPO_ROOT, '..', 'shared', 'manifests', 'fluentd-elasticsearch.yaml');

/** The DaemonSet document of the example, as the Kubernetes docs give it. */
export const FLUENTD_DAEMONSET_YAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
`;

/** The whole example file: a Namespace document, then the DaemonSet. */
export const FLUENTD_MANIFEST_YAML = `apiVersion: v1
kind: Namespace
metadata:
  name: logging
---
${FLUENTD_DAEMONSET_YAML}`;

export function sharedFluentdExists(): boolean {
  return existsSync(SHARED_FLUENTD);
}

/** The whole example file, from ../shared when present. */
export function fluentdManifest(): string {
  return sharedFluentdExists() ? readFileSync(SHARED_FLUENTD, 'utf8') : FLUENTD_MANIFEST_YAML;
}

/** Its DaemonSet document alone (kubectl cannot create the Namespace here yet). */
export function fluentdDaemonSet(): string {
  const docs = fluentdManifest().split(/^---$/m);
  return docs.find((d) => /^kind: DaemonSet$/m.test(d))?.trimStart() ?? FLUENTD_DAEMONSET_YAML;
}

/** A minimal DaemonSet `ssa` in namespace logging, for the server-side apply tests. */
export function ssaDaemonSetYaml(image: string): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ssa
  namespace: logging
spec:
  selector:
    matchLabels: {name: ssa}
  template:
    metadata:
      labels: {name: ssa}
    spec:
      containers:
      - name: main
        image: ${image}
`;
}
