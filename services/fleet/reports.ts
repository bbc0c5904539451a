// The reports a simulated node writes, built exactly as the agent builds them
// (services/agent/agent.ts: onRuntimeEvent, execute and rejection).

import type { AgentPod } from '../../libs/core/agent-commands.js';
import type { LogEvent, PodDelete, PodReportBase } from '../../libs/events/types.js';
import type { RuntimeEvent } from '../../libs/agent-runtime/driver.js';

export function reportBase(node: string, pod: AgentPod): PodReportBase {
  return { node, namespace: pod.create.pod.namespace, podName: pod.create.pod.name, podUid: pod.uid };
}

/** PodStarted / PodReady / PodNotReady / PodFailed for a runtime event of a pod. */
export function runtimeReport(node: string, pod: AgentPod, ev: RuntimeEvent): LogEvent {
  const b = reportBase(node, pod);
  switch (ev.type) {
    case 'started':
      return { type: 'PodStarted', v: 1, data: { ...b, restartCount: ev.restartCount } };
    case 'ready':
      return { type: 'PodReady', v: 1, data: b };
    case 'notReady':
      return { type: 'PodNotReady', v: 1, data: { ...b, reason: ev.reason } };
    case 'failed':
      return {
        type: 'PodFailed',
        v: 1,
        data: { ...b, reason: ev.reason, ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}) },
      };
    default: {
      const unreachable: never = ev;
      throw new Error(`unknown runtime event ${JSON.stringify(unreachable)}`);
    }
  }
}

export function podDeleted(node: string, cmd: PodDelete): LogEvent {
  const d = cmd.data;
  return { type: 'PodDeleted', v: 1, data: { node, namespace: d.namespace, podName: d.podName, podUid: d.podUid } };
}

