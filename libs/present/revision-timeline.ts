// The rollout of one revision as the log tells it, beyond what kubectl can show: for every pod
// created from the revision's template, when its PodCreate was written and when it first
// reported Ready. Fed envelope by envelope during the fold (LoadOptions.onEnvelope). PURE.

import type { Envelope } from '../events/types.js';

export interface PodTimeline {
  readonly node: string;
  readonly pod: string;
  readonly podUid: string;
  readonly dsUid: string;
  readonly hash: string;
  /** Stream time of the PodCreate. */
  readonly createdMs: number;
  /** Stream time of the pod's first PodReady. */
  readyMs?: number;
}

export interface TimelineRecorder {
  observe(env: Envelope): void;
  /** The pods of the DaemonSet `dsUid` created with `hash`, in creation order. */
  podsOf(dsUid: string, hash: string): PodTimeline[];
}

export function timelineRecorder(namespace: string, name: string): TimelineRecorder {
  const byUid = new Map<string, PodTimeline>();
  return {
    observe(env) {
      const e = env.event;
      if (e.type === 'PodCreate') {
        const d = e.data;
        // A retried create carries the same pod uid (deterministic ids): the first one counts.
        if (d.ds.namespace !== namespace || d.ds.name !== name || byUid.has(d.pod.uid)) return;
        byUid.set(d.pod.uid, {
          node: d.node,
          pod: d.pod.name,
          podUid: d.pod.uid,
          dsUid: d.ds.uid,
          hash: d.pod.hash,
          createdMs: env.timeMs,
        });
      } else if (e.type === 'PodReady') {
        const t = byUid.get(e.data.podUid);
        if (t && t.node === e.data.node && t.readyMs === undefined) t.readyMs = env.timeMs;
      }
    },
    podsOf(dsUid, hash) {
      return [...byUid.values()].filter((t) => t.dsUid === dsUid && t.hash === hash);
    },
  };
}

export interface TimelineSummary {
  readonly nodes: number;
  readonly pods: number;
  readonly ready: number;
  readonly medianMs?: number;
  readonly maxMs?: number;
}

/** Distinct nodes, and the median and max of time-to-ready over the pods that became ready. */
export function summarizeTimeline(pods: readonly PodTimeline[]): TimelineSummary {
  const durations = pods
    .filter((p) => p.readyMs !== undefined)
    .map((p) => (p.readyMs ?? p.createdMs) - p.createdMs)
    .sort((a, b) => a - b);
  const n = durations.length;
  const base = { nodes: new Set(pods.map((p) => p.node)).size, pods: pods.length, ready: n };
  if (n === 0) return base;
  const mid = Math.floor(n / 2);
  const medianMs = n % 2 === 1 ? durations[mid]! : (durations[mid - 1]! + durations[mid]!) / 2;
  return { ...base, medianMs, maxMs: durations[n - 1]! };
}
