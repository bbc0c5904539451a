// The agent's wiring: register the node, heartbeat, fold the commands addressed to this node
// (from its registration on), execute the new ones through the runtime driver at most once,
// and report what the pods do. Fencing and at-most-once live in libs/core/agent-commands.ts.

import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { applyCommand, commandRejected, defaultNodeLabels, newAgentView, type AgentPod } from '../../libs/core/agent-commands.js';
import type { Envelope, LogEvent, PodCommand, PodReportBase } from '../../libs/events/types.js';
import { publishHeartbeat } from '../../libs/nats/heartbeats.js';
import { openLogReader, type LogReader } from '../../libs/nats/log-reader.js';
import { OrderedPublisher } from '../../libs/nats/ordered-publisher.js';
import { createRejectCounters } from '../../libs/nats/reject-counters.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { waitForTopology } from '../../libs/nats/topology.js';
import { Lifecycle } from '../../libs/runtime/lifecycle.js';
import { nodeCommandFilter, nodeSubject, podReportSubject } from '../../libs/topology/names.js';
import { agentConsumerName } from '../../libs/topology/roles.js';
import { startConditionMonitor } from './conditions.js';
import type { AgentConfig } from './config.js';
import { createProcessDriver, createSimDriver, type ProcessDriver, type RuntimeDriver, type RuntimeEvent, type RuntimePod } from './drivers/mod.js';
import { hostIPs, nodeCapacity } from './node-facts.js';

/** What survives an agent restart on this node: who it is and how far it has acted. */
interface LocalState {
  readonly node: string;
  readonly incarnation: string;
  /** First log sequence of this incarnation: commands before it belong to an earlier one. */
  readonly fromSeq: number;
  /** Every command up to here has been executed and reported. */
  appliedSeq: number;
}

export interface AgentHandle {
  readonly lifecycle: Lifecycle;
  readonly incarnation: string;
  /** Uids of the pods this node runs now. */
  running(): readonly string[];
  /** Stop, optionally leaving the node registered (a restart keeps the incarnation). */
  stop(opts?: { deregister?: boolean }): Promise<void>;
}

export async function startAgent(nc: NatsConnection, config: AgentConfig, log: Logger): Promise<AgentHandle> {
  const lifecycle = new Lifecycle(log);
  const js = jetstream(nc);
  await waitForTopology(nc, { log });
  await mkdir(config.dataDir, { recursive: true });
  const statePath = join(config.dataDir, 'agent-state.json');

  const previous = await loadLocalState(statePath, config.nodeName, log);
  const incarnation = previous?.incarnation ?? randomUUID();
  const view = newAgentView();
  let stopping = false;

  // ---- reports ------------------------------------------------------------------------------------
  // Pod reports reach the log in the order they happened and are never dropped: one in flight at
  // a time, retried until stored (a JetStream leader election must not lose a PodReady).
  const reports = new OrderedPublisher({ js, log, idPrefix: `report/${config.nodeName}/${incarnation}/${Date.now()}` });
  const report = async (slot: number, event: LogEvent): Promise<void> => {
    await reports.publish(podReportSubject(slot, config.nodeName), event);
  };
  const base = (pod: AgentPod): PodReportBase => ({
    node: config.nodeName,
    namespace: pod.create.pod.namespace,
    podName: pod.create.pod.name,
    podUid: pod.uid,
  });
  const onRuntimeEvent = (uid: string, ev: RuntimeEvent): void => {
    const pod = view.pods.get(uid);
    if (!pod || stopping) return;
    const b = base(pod);
    const slot = pod.create.slot;
    switch (ev.type) {
      case 'started':
        void report(slot, { type: 'PodStarted', v: 1, data: { ...b, restartCount: ev.restartCount } });
        break;
      case 'ready':
        void report(slot, { type: 'PodReady', v: 1, data: b });
        break;
      case 'notReady':
        void report(slot, { type: 'PodNotReady', v: 1, data: { ...b, reason: ev.reason } });
        break;
      case 'failed':
        void report(slot, {
          type: 'PodFailed',
          v: 1,
          data: { ...b, reason: ev.reason, ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}) },
        });
        break;
    }
  };

  // ---- driver ---------------------------------------------------------------------------------------
  const sim = createSimDriver({
    listener: onRuntimeEvent,
    startDelayMs: config.simStartDelayMs,
    readyDelayMs: config.simReadyDelayMs,
    failRate: config.simFailRate,
  });
  const capacity = nodeCapacity(config.dataDir);
  let driver: RuntimeDriver = sim;
  let proc: ProcessDriver | undefined;
  if (config.driver === 'process') {
    // Containers of an earlier run of this agent are left alone until the commands are read:
    // those of pods this node still runs are adopted then, the others killed (recover()).
    proc = createProcessDriver({
      stateDir: config.dataDir,
      node: { name: config.nodeName, hostIPs: hostIPs(), allocatable: capacity },
      listener: onRuntimeEvent,
      log,
      simFallback: sim,
    });
    driver = proc;
  }

  // ---- register ------------------------------------------------------------------------------------
  const ack = await publishEvent(js, {
    subject: nodeSubject(config.nodeName),
    event: {
      type: 'NodeRegistered',
      v: 1,
      data: {
        node: config.nodeName,
        incarnation,
        labels: { ...defaultNodeLabels(config.nodeName, platform(), arch()), ...config.nodeLabels },
        capacity,
        allocatable: capacity,
      },
    },
  });
  const local: LocalState = previous ?? { node: config.nodeName, incarnation, fromSeq: ack.seq + 1, appliedSeq: ack.seq };
  await saveLocalState(statePath, local);
  log.info({ incarnation, resumed: previous !== undefined, fromSeq: local.fromSeq, appliedSeq: local.appliedSeq }, 'node registered');

  // ---- heartbeats ------------------------------------------------------------------------------------
  const beat = (): void => {
    if (stopping) return;
    publishHeartbeat(nc, { type: 'Heartbeat', v: 1, data: { node: config.nodeName, incarnation, sentMs: Date.now() } });
  };
  beat();
  const hbTimer = setInterval(beat, config.heartbeatIntervalMs);

  // ---- commands ---------------------------------------------------------------------------------------
  let live = false;
  let saveTimer: NodeJS.Timeout | undefined;
  // Saves run one after the other: two in flight would race on the same temporary file (and a
  // late save could bring back the state file of a node that has just deregistered).
  let saves: Promise<void> = Promise.resolve();
  const save = (): Promise<void> =>
    (saves = saves.then(() => saveLocalState(statePath, local)).catch((err: unknown) => log.error({ err }, 'saving agent state failed')));
  const scheduleSave = (): void => {
    if (saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      void save();
    }, 50);
  };

  /** Executes one command's outcome (only for commands past appliedSeq). */
  const execute = async (env: Envelope, cmd: PodCommand): Promise<void> => {
    const action = applyCommand(view, cmd, config.nodeName);
    const act = env.seq > local.appliedSeq;
    switch (action.kind) {
      case 'start':
        if (act && live) startPod(action.pod);
        break;
      case 'stop':
        if (act) {
          const data = cmd.type === 'PodDelete' ? cmd.data : undefined;
          if (live) await driver.stop(action.uid);
          if (data) {
            await report(data.slot, {
              type: 'PodDeleted',
              v: 1,
              data: { node: config.nodeName, namespace: data.namespace, podName: data.podName, podUid: data.podUid },
            });
          }
        }
        break;
      case 'reject':
        if (act) {
          log.warn({ command: cmd.data.id, reason: action.reason, message: action.message }, 'command rejected');
          await report(cmd.data.slot, commandRejected(cmd, config.nodeName, action.reason, action.message));
        }
        break;
      case 'ignore':
        if (act) log.debug({ command: cmd.data.id, why: action.why }, 'command ignored');
        break;
    }
    if (act) {
      local.appliedSeq = env.seq;
      scheduleSave();
    }
  };

  /** The pod as bound to this node: `spec.nodeName` is set, as the scheduler's binding sets it. */
  const runtimePod = (pod: AgentPod): RuntimePod => {
    const p = pod.create.pod;
    return { namespace: p.namespace, name: p.name, uid: pod.uid, spec: { ...p.spec, nodeName: config.nodeName }, labels: p.labels, annotations: p.annotations };
  };
  const startPod = (pod: AgentPod): void => {
    const p = pod.create.pod;
    log.info({ pod: `${p.namespace}/${p.name}`, uid: pod.uid }, 'starting pod');
    driver.start(runtimePod(pod));
  };

  // Commands are handled strictly in log order, one after the other.
  let chain: Promise<void> = Promise.resolve();
  const onEnvelope = (env: Envelope): void => {
    const e = env.event;
    if (e.type !== 'PodCreate' && e.type !== 'PodDelete') return;
    chain = chain.then(() => execute(env, e)).catch((err: unknown) => log.error({ err, seq: env.seq }, 'command failed'));
  };

  // Refused commands are counted by class and summarised every 10 s (never a warn line each).
  const rejects = createRejectCounters();
  let rejectsLogged = 0;
  const rejectTimer = setInterval(() => {
    if (rejects.total() === rejectsLogged) return;
    rejectsLogged = rejects.total();
    log.warn({ rejected: rejects.snapshot(), total: rejectsLogged }, 'commands set aside');
  }, 10_000);
  rejectTimer.unref();

  lifecycle.to('replaying', { fromSeq: local.fromSeq });
  const reader: LogReader = await openLogReader({
    nc,
    filter: nodeCommandFilter(config.nodeName),
    // The name its credentials allow (libs/topology/roles.ts): one consumer, this node's filter.
    consumerName: agentConsumerName(config.nodeName),
    fromSeq: local.fromSeq,
    onEnvelope,
    onInvalid: (msg, reason) => {
      const cls = rejects.count(reason);
      log.debug({ seq: msg.seq, subject: msg.subject, reason, class: cls }, 'command set aside');
    },
    log,
  });
  await reader.caughtUp;
  // After a restart the pods of this incarnation run again: the process driver adopts the
  // containers that outlived the earlier agent and counts a restart for those that did not.
  // Queued on the command chain, so that no command slips in between recovery and going live.
  chain = chain.then(async () => {
    if (proc !== undefined) {
      await proc.recover([...view.pods.values()].map(runtimePod));
    } else {
      for (const pod of view.pods.values()) startPod(pod);
    }
    live = true;
  });
  await chain;
  lifecycle.to('live', { pods: view.pods.size });

  // ---- conditions (MemoryPressure, DiskPressure, PIDPressure → the agent's taints) -----------------
  // Started once live, so the first publish does not race the command reader's catch-up.
  const conditions = await startConditionMonitor({
    dataDir: config.dataDir,
    intervalMs: config.conditionsIntervalMs,
    thresholds: config.pressureThresholds,
    ...(config.conditionsReadingsFile !== undefined ? { readingsFile: config.conditionsReadingsFile } : {}),
    log,
    publish: async (taints) => {
      await publishEvent(js, {
        subject: nodeSubject(config.nodeName),
        event: { type: 'NodeTaintsSet', v: 1, data: { node: config.nodeName, source: 'agent', taints } },
      });
    },
  });

  return {
    lifecycle,
    incarnation,
    running: () => [...view.pods.keys()],
    async stop(opts = {}): Promise<void> {
      const deregister = opts.deregister ?? true;
      lifecycle.to('stopping', { deregister });
      clearInterval(hbTimer);
      clearInterval(rejectTimer);
      await conditions.stop();
      await reader.stop();
      await chain;
      stopping = true;
      if (saveTimer) clearTimeout(saveTimer);
      await saves;
      if (deregister) {
        // Leave the fleet first: once the node is gone its pods are gone with it (as Kubernetes'
        // PodGC does for a deleted node), so the controller does not race a replacement onto a
        // node that is shutting down.
        // Queued behind the reports still in flight, and retried like them.
        void reports.publish(nodeSubject(config.nodeName), { type: 'NodeDeregistered', v: 1, data: { node: config.nodeName, incarnation } });
        await flushWithin(reports, config.shutdownGraceMs / 2);
        await driver.stopAll();
        await rm(statePath, { force: true });
      } else {
        await driver.stopAll();
        await save();
      }
      await flushWithin(reports, config.shutdownGraceMs / 2);
      reports.close();
      lifecycle.to('stopped');
    },
  };
}

/** Waits for queued reports, but not past `ms` (the bus may be gone while we stop). */
async function flushWithin(reports: OrderedPublisher, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([reports.flush(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}


async function loadLocalState(path: string, node: string, log: Logger): Promise<LocalState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as Partial<LocalState>;
    if (s.node === node && typeof s.incarnation === 'string' && Number.isInteger(s.fromSeq) && Number.isInteger(s.appliedSeq)) {
      return { node, incarnation: s.incarnation, fromSeq: s.fromSeq!, appliedSeq: s.appliedSeq! };
    }
    log.warn({ path }, 'agent state is for another node or incomplete: starting as a new incarnation');
  } catch (err) {
    log.warn({ path, err }, 'agent state unreadable: starting as a new incarnation');
  }
  return undefined;
}

async function saveLocalState(path: string, s: LocalState): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(s));
  await rename(tmp, path);
}
