// kubectl's DaemonSetStatusViewer (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go):
// what `rollout status` says about a DaemonSet, read from the status the controller recorded. PURE.

import type { DsRecord } from '../../../libs/core/state.js';

export type StatusView =
  | { readonly kind: 'progress'; readonly message: string; readonly done: boolean }
  | { readonly kind: 'error'; readonly message: string };

/** Go's %q for a Kubernetes name (printable ASCII: the same as a JSON string). */
function quote(name: string): string {
  return JSON.stringify(name);
}

/** DaemonSetStatusViewer.Status; `message` has no trailing newline. */
export function daemonSetStatusView(ds: DsRecord): StatusView {
  if (ds.spec.updateStrategy.type !== 'RollingUpdate') {
    return { kind: 'error', message: 'rollout status is only available for RollingUpdate strategy type' };
  }
  const s = ds.status;
  const observed = s?.observedGeneration ?? 0;
  if (s === undefined || ds.generation > observed) {
    return { kind: 'progress', message: 'Waiting for daemon set spec update to be observed...', done: false };
  }
  const name = quote(ds.name);
  if (s.updatedNumberScheduled < s.desiredNumberScheduled) {
    return {
      kind: 'progress',
      message: `Waiting for daemon set ${name} rollout to finish: ${s.updatedNumberScheduled} out of ${s.desiredNumberScheduled} new pods have been updated...`,
      done: false,
    };
  }
  if (s.numberAvailable < s.desiredNumberScheduled) {
    return {
      kind: 'progress',
      message: `Waiting for daemon set ${name} rollout to finish: ${s.numberAvailable} of ${s.desiredNumberScheduled} updated pods are available...`,
      done: false,
    };
  }
  return { kind: 'progress', message: `daemon set ${name} successfully rolled out`, done: true };
}
