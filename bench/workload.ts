// What the benchmarks write: DaemonSet manifests shaped like a real log shipper (the fluentd
// example: tolerations, resources, a hostPath volume), and a realistic log produced by the real
// pure core — evolve + reconcile deciding, simulated agents reporting — so payload sizes and
// the fold's work are those of a real cluster, not of synthetic blobs.

import { evolve } from '../libs/core/evolve.js';
import { reconcile } from '../libs/core/reconcile.js';
import { dsKey, initialState, type State } from '../libs/core/state.js';
import type { DaemonSetApplied, LogEvent } from '../libs/events/types.js';
import { defaultDaemonSetSpec } from '../libs/model/defaults.js';
import type { DaemonSetSpec } from '../libs/model/types.js';
import { commandSubject, dsStatusSubject, dsSubject, nodeSubject, podReportSubject, shardSubject } from '../libs/topology/names.js';
import { dsSlot } from '../libs/topology/slot.js';

export const BENCH_NAMESPACE = 'kube-system';

/** A DaemonSet manifest (YAML) for `applyManifests`. */
export function daemonSetManifest(name: string, image: string, maxUnavailable = '10%'): string {
  return `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: ${BENCH_NAMESPACE}
  labels: { k8s-app: ${name} }
spec:
  selector: { matchLabels: { name: ${name} } }
  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: '${maxUnavailable}' } }
  template:
    metadata: { labels: { name: ${name} } }
    spec:
      tolerations:
      - { key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule }
      - { key: node-role.kubernetes.io/master, operator: Exists, effect: NoSchedule }
      containers:
      - name: ${name}
        image: ${image}
        resources:
          limits: { memory: 200Mi }
          requests: { cpu: 100m, memory: 200Mi }
        volumeMounts: [ { name: varlog, mountPath: /var/log } ]
      terminationGracePeriodSeconds: 30
      volumes: [ { name: varlog, hostPath: { path: /var/log } } ]
`;
}

/** The same DaemonSet as a spec, for logs generated without the CLI. */
export function daemonSetSpec(name: string, image: string, maxUnavailable = '10%'): DaemonSetSpec {
  return {
    selector: { matchLabels: { name } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable } },
    template: {
      metadata: { labels: { name } },
      spec: {
        tolerations: [
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
        ],
        containers: [
          {
            name,
            image,
            resources: { limits: { memory: '200Mi' }, requests: { cpu: '100m', memory: '200Mi' } },
            volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }],
          },
        ],
        terminationGracePeriodSeconds: 30,
        volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
      },
    },
  };
}

export interface LogItem {
  readonly subject: string;
  readonly event: LogEvent;
  readonly msgId?: string;
}

export interface SimulatedLogOptions {
  readonly nodes: number;
  readonly daemonSets: number;
  readonly slots: number;
  /** Stop after this many events. */
  readonly events: number;
  /** The sequence the stream will give the first event (its last_seq + 1). */
  readonly firstSeq: number;
  /** Stream time of the first event; each next one is 1 ms later. */
  readonly startMs: number;
}

const EPOCH = 1;

/**
 * A cluster's life, event by event: nodes register, DaemonSets are applied and converge
 * (PodCreate → PodStarted → PodReady, status updates), then roll out new images again and again
 * (PodDelete → PodDeleted → PodCreate …) within maxUnavailable, until `events` were produced.
 * Decisions come from the real `reconcile`, folded with the real `evolve` as they are produced.
 */
export function* simulatedLog(opts: SimulatedLogOptions): Generator<LogItem> {
  const state: State = initialState();
  let seq = opts.firstSeq - 1;
  let produced = 0;
  const fold = (item: LogItem): LogItem => {
    seq++;
    produced++;
    evolve(state, { seq, subject: item.subject, timeMs: opts.startMs + produced, event: item.event }, { slots: opts.slots });
    return item;
  };
  const done = (): boolean => produced >= opts.events;

  const names = Array.from({ length: opts.daemonSets }, (_, i) => `logship-${i + 1}`);
  for (const slot of new Set(names.map((n) => dsSlot(BENCH_NAMESPACE, n, opts.slots)))) {
    yield fold({ subject: shardSubject(slot), event: { type: 'ShardAcquired', v: 1, data: { slot, owner: 'bench', epoch: EPOCH } } });
  }
  for (let i = 1; i <= opts.nodes && !done(); i++) {
    const node = `node-${i}`;
    yield fold({
      subject: nodeSubject(node),
      event: {
        type: 'NodeRegistered',
        v: 1,
        data: {
          node,
          incarnation: `inc-${i}`,
          labels: { 'kubernetes.io/hostname': node, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
          capacity: { cpu: '8', memory: '32869508Ki', pods: '110' },
          allocatable: { cpu: '8', memory: '32869508Ki', pods: '110' },
        },
      },
    });
  }

  for (let version = 1; !done(); version++) {
    for (const name of names) {
      if (done()) return;
      const slot = dsSlot(BENCH_NAMESPACE, name, opts.slots);
      const prev = state.daemonSets.get(dsKey(BENCH_NAMESPACE, name));
      const applied: DaemonSetApplied = {
        type: 'DaemonSetApplied',
        v: 1,
        data: {
          namespace: BENCH_NAMESPACE,
          name,
          uid: prev?.uid ?? `00000000-0000-4000-8000-${String(names.indexOf(name)).padStart(12, '0')}`,
          generation: (prev?.generation ?? 0) + 1,
          labels: { 'k8s-app': name },
          annotations: {},
          spec: defaultDaemonSetSpec(daemonSetSpec(name, `registry.local/${name}:v${version}`)),
        },
      };
      yield fold({ subject: dsSubject(slot, BENCH_NAMESPACE, name), event: applied });
      yield* converge(name, slot);
    }
  }

  function* converge(name: string, slot: number): Generator<LogItem> {
    const key = dsKey(BENCH_NAMESPACE, name);
    for (;;) {
      if (done()) return;
      const d = reconcile(state, key, { nowMs: state.lastTimeMs, epoch: EPOCH, burst: 100_000 });
      const ds = state.daemonSets.get(key)!;
      if (d.status) {
        yield fold({
          subject: dsStatusSubject(slot, BENCH_NAMESPACE, name),
          event: { type: 'DaemonSetStatusUpdated', v: 1, data: { namespace: ds.namespace, name: ds.name, uid: ds.uid, status: d.status } },
        });
      }
      if (!d.commands.length) return;
      for (const c of d.commands) yield fold({ subject: commandSubject(c.data.slot, c.data.node), event: c, msgId: c.data.id });
      // What the agents answer, in the order they would.
      for (const c of d.commands) {
        if (done()) return;
        const subject = podReportSubject(c.data.slot, c.data.node);
        if (c.type === 'PodCreate') {
          const base = { node: c.data.node, namespace: c.data.pod.namespace, podName: c.data.pod.name, podUid: c.data.pod.uid };
          yield fold({ subject, event: { type: 'PodStarted', v: 1, data: { ...base, restartCount: 0 } } });
          yield fold({ subject, event: { type: 'PodReady', v: 1, data: base } });
        } else {
          const base = { node: c.data.node, namespace: c.data.namespace, podName: c.data.podName, podUid: c.data.podUid };
          yield fold({ subject, event: { type: 'PodDeleted', v: 1, data: base } });
        }
      }
    }
  }
}

/** One real PodCreate and one real PodReady (what the baseline publishes). */
export function sampleEvents(slots: number): { podCreate: LogItem; podReady: LogItem } {
  let podCreate: LogItem | undefined;
  let podReady: LogItem | undefined;
  for (const item of simulatedLog({ nodes: 1, daemonSets: 1, slots, events: 100, firstSeq: 1, startMs: 1_700_000_000_000 })) {
    if (!podCreate && item.event.type === 'PodCreate') podCreate = item;
    if (!podReady && item.event.type === 'PodReady') podReady = item;
    if (podCreate && podReady) return { podCreate, podReady };
  }
  throw new Error('the simulated log produced no PodCreate and PodReady');
}
