// The reports a simulated node writes, built exactly as the agent builds them
// (services/agent/agent.ts: onRuntimeEvent, execute and rejection).

import type { AgentPod } from '../../libs/core/agent-commands.js';
import type { CommandRejected, LogEvent, PodCommand, PodDelete, PodReportBase } from '../../libs/events/types.js';
import type { RuntimeEvent } from '../agent/drivers/driver.js';

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

export function commandRejected(cmd: PodCommand, node: string, reason: CommandRejected['data']['reason'], message: string): CommandRejected {
  const pod =
    cmd.type === 'PodCreate'
      ? { namespace: cmd.data.pod.namespace, podName: cmd.data.pod.name, podUid: cmd.data.pod.uid }
      : { namespace: cmd.data.namespace, podName: cmd.data.podName, podUid: cmd.data.podUid };
  return {
    type: 'CommandRejected',
    v: 1,
    data: { node, commandId: cmd.data.id, commandType: cmd.type, slot: cmd.data.slot, epoch: cmd.data.epoch, ...pod, reason, message },
  };
}
