// Fleet mode: N simulated nodes in one process over one connection, each writing exactly the
// events a real agent with the sim driver writes (NodeRegistered with its own incarnation,
// Heartbeat on hb.<node>, PodStarted/PodReady/PodDeleted/CommandRejected on ev.pod.<slot>.<node>,
// NodeDeregistered on stop), so a controller cannot tell 10,000 fleet nodes from 10,000 agents.
//
// What is shared instead of per node (that is what makes 10,000 fit on one machine):
// - ONE ordered consumer over `s.*.cmd.>` from the first registration's sequence (command-feed.ts);
//   each command goes to its node's AgentView through the agent's own `applyCommand`, so
//   fencing (stale epochs refused) and at-most-once execution are the agent's, unchanged;
// - ONE sim driver (one pending timer per pod transition), pods mapped back to their node;
// - ONE heartbeat timer spreading the nodes evenly over the interval (spread-timer.ts);
// - ONE publish window: registrations and reports pipelined, never awaited one by one.
//
// State is in memory only: a node's commands count from its own registration's sequence, and a
// restarted fleet registers every node as a new incarnation (the controller then drops the
// earlier incarnation's pods and places new ones), where an agent would resume its incarnation
// from its DATA_DIR.

import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { jetstream, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { applyCommand, commandRejected, defaultNodeLabels, newAgentView, type AgentPod, type AgentView } from '../../libs/core/agent-commands.js';
import type { Envelope, LogEvent, NodeRegistered, PodCommand } from '../../libs/events/types.js';
import type { Labels } from '../../libs/model/types.js';
import { publishHeartbeat } from '../../libs/nats/heartbeats.js';
import { waitForTopology } from '../../libs/nats/topology.js';
import { Lifecycle } from '../../libs/runtime/lifecycle.js';
import { nodeSubject, podReportSubject } from '../../libs/topology/names.js';
// The fleet hosts the agent's own sim driver and default labels, so a fleet node behaves as an
// agent with DRIVER=sim does (see the report: both belong in a lib shared by the two services).
import { arch, platform } from 'node:os';
import type { RuntimeEvent } from '../../libs/agent-runtime/driver.js';
import { createSimDriver } from '../../libs/agent-runtime/sim-driver.js';
import { openCommandFeed, type CommandFeed } from './command-feed.js';
import { createPublishWindow } from './publish-window.js';
import { podDeleted, runtimeReport } from './reports.js';
import { startSpreadTimer } from './spread-timer.js';

export interface FleetOptions {
  /** Names of the nodes registered at start (more can be added with addNodes). */
  readonly names: readonly string[];
  readonly nodeLabels: Readonly<Record<string, string>>;
  readonly heartbeatIntervalMs: number;
  readonly simStartDelayMs: number;
  readonly simReadyDelayMs: number;
  readonly simFailRate: number;
  /** Publishes in flight at once (default 1024). */
  readonly maxInFlight?: number;
}

/** One node's registration: its NodeRegistered's sequence, and when it was published (wall clock). */
export interface Registration {
  readonly node: string;
  readonly incarnation: string;
  readonly seq: number;
  readonly publishedMs: number;
}

export interface FleetStats {
  readonly nodes: number;
  readonly registered: number;
  readonly commands: number;
  readonly pods: number;
  readonly rejected: number;
  readonly publishPending: number;
}

export interface FleetHandle {
  readonly lifecycle: Lifecycle;
  /** Registrations of the nodes given at start, in order. */
  readonly registrations: readonly Registration[];
  nodes(): readonly string[];
  incarnation(node: string): string | undefined;
  /** Uids of the pods a node should be running now (its AgentView). */
  running(node: string): readonly string[];
  /** Registers more nodes (names not hosted yet); resolves once all are acknowledged. */
  addNodes(names: readonly string[]): Promise<Registration[]>;
  stats(): FleetStats;
  /** Stops heartbeats and commands, deregisters every node, stops its pods, drains reports. */
  stop(): Promise<void>;
}

interface SimNode {
  readonly name: string;
  readonly incarnation: string;
  readonly view: AgentView;
  /** Sequence of this incarnation's NodeRegistered; commands at or before it are an earlier one's. */
  regSeq: number | undefined;
  /** Commands delivered before the registration's ack was seen (kept in order). */
  early: Envelope<PodCommand>[];
}

const PROGRESS_EVERY_MS = 1000;
const REGISTER_RETRY_MS = 1000;

/** A node that cannot join this fleet: its name is hosted already, or the fleet is stopping. */
export class FleetNameError extends Error {
  override readonly name = 'FleetNameError';
}

export async function startFleet(nc: NatsConnection, opts: FleetOptions, log: Logger): Promise<FleetHandle> {
  const lifecycle = new Lifecycle(log);
  await waitForTopology(nc, { log });
  const js = jetstream(nc);
  const window = createPublishWindow(js, opts.maxInFlight);
  const nodes = new Map<string, SimNode>();
  /** Registered nodes in order: the heartbeat timer walks it. */
  const order: SimNode[] = [];
  const podNode = new Map<string, SimNode>();
  const caps = capacity();
  let stopping = false;
  let commands = 0;
  let rejected = 0;
  let registered = 0;

  // ---- reports ------------------------------------------------------------------------------------
  const report = (slot: number, node: string, event: LogEvent): void => {
    window.push({ subject: podReportSubject(slot, node), event }).catch((err: unknown) => {
      log.error({ err, node, type: event.type }, 'report publish failed');
    });
  };

  const onRuntimeEvent = (uid: string, ev: RuntimeEvent): void => {
    const node = podNode.get(uid);
    const pod = node?.view.pods.get(uid);
    if (!node || !pod || stopping) return;
    report(pod.create.slot, node.name, runtimeReport(node.name, pod, ev));
  };

  const driver = createSimDriver({
    listener: onRuntimeEvent,
    startDelayMs: opts.simStartDelayMs,
    readyDelayMs: opts.simReadyDelayMs,
    failRate: opts.simFailRate,
  });

  // ---- commands (the agent's execute, for one node) ------------------------------------------------
  const startPod = (node: SimNode, pod: AgentPod): void => {
    const p = pod.create.pod;
    log.debug({ node: node.name, pod: `${p.namespace}/${p.name}`, uid: pod.uid }, 'starting pod');
    podNode.set(pod.uid, node);
    driver.start({ namespace: p.namespace, name: p.name, uid: pod.uid, spec: p.spec, annotations: p.annotations });
  };

  const execute = (node: SimNode, env: Envelope<PodCommand>): void => {
    if (node.regSeq === undefined) {
      node.early.push(env);
      return;
    }
    if (env.seq <= node.regSeq) return;
    commands++;
    const cmd = env.event;
    const action = applyCommand(node.view, cmd, node.name);
    switch (action.kind) {
      case 'start':
        startPod(node, action.pod);
        break;
      case 'stop':
        // The sim driver forgets the pod (and its pending timer) at once: nothing it reports
        // after this point reaches the log, as with the agent's awaited stop.
        void driver.stop(action.uid);
        podNode.delete(action.uid);
        if (cmd.type === 'PodDelete') report(cmd.data.slot, node.name, podDeleted(node.name, cmd));
        break;
      case 'reject':
        rejected++;
        log.warn({ node: node.name, command: cmd.data.id, reason: action.reason, message: action.message }, 'command rejected');
        report(cmd.data.slot, node.name, commandRejected(cmd, node.name, action.reason, action.message));
        break;
      case 'ignore':
        log.debug({ node: node.name, command: cmd.data.id, why: action.why }, 'command ignored');
        break;
      default: {
        const unreachable: never = action;
        throw new Error(`unknown agent action ${JSON.stringify(unreachable)}`);
      }
    }
  };

  let feedOpening: Promise<CommandFeed> | undefined;
  const ensureFeed = (fromSeq: number): Promise<CommandFeed> => {
    feedOpening ??= (async () => {
      lifecycle.to('replaying', { fromSeq });
      return openCommandFeed({
        nc,
        fromSeq,
        hosts: (name) => nodes.has(name),
        onCommand: (name, env) => {
          const node = nodes.get(name);
          if (node && !stopping) execute(node, env);
        },
        log,
      });
    })();
    return feedOpening;
  };

  // ---- registration ----------------------------------------------------------------------------------
  const registeredEvent = (node: SimNode): NodeRegistered => ({
    type: 'NodeRegistered',
    v: 1,
    data: {
      node: node.name,
      incarnation: node.incarnation,
      labels: { ...defaultNodeLabels(node.name, platform(), arch()), ...opts.nodeLabels },
      capacity: caps,
      allocatable: caps,
    },
  });

  const publishRegistration = async (node: SimNode): Promise<PubAck> => {
    for (;;) {
      try {
        // The msg id makes a retry after a lost ack land once, with the first one's sequence.
        return await window.push({ subject: nodeSubject(node.name), event: registeredEvent(node), msgId: `register/${node.name}/${node.incarnation}` });
      } catch (err) {
        if (stopping) throw err;
        log.error({ err, node: node.name }, 'registration publish failed: retrying');
        await new Promise((r) => setTimeout(r, REGISTER_RETRY_MS));
      }
    }
  };

  const register = async (names: readonly string[]): Promise<Registration[]> => {
    if (lifecycle.phase === 'stopping' || lifecycle.phase === 'stopped') throw new FleetNameError('the fleet is stopping: no node can join it');
    const fresh: SimNode[] = [];
    for (const name of names) {
      if (nodes.has(name)) throw new FleetNameError(`node ${name} is hosted by this fleet already`);
      const node: SimNode = { name, incarnation: randomUUID(), view: newAgentView(), regSeq: undefined, early: [] };
      nodes.set(name, node);
      order.push(node);
      fresh.push(node);
    }
    const publishedMs = Date.now();
    // All registrations leave before any ack is awaited; the first ack (the lowest sequence:
    // one connection keeps our order) opens the command feed while the others are in flight.
    const acks = fresh.map((node) => publishRegistration(node));
    const feedReady = acks.length ? acks[0]!.then((ack) => ensureFeed(ack.seq)) : Promise.resolve(undefined);
    const out = await Promise.all(
      acks.map(async (p, i): Promise<Registration> => {
        const ack = await p;
        const node = fresh[i]!;
        node.regSeq = ack.seq;
        registered++;
        const early = node.early;
        node.early = [];
        for (const env of early) execute(node, env);
        return { node: node.name, incarnation: node.incarnation, seq: ack.seq, publishedMs };
      }),
    );
    await feedReady;
    return out;
  };

  // ---- heartbeats ----------------------------------------------------------------------------------
  const spread = startSpreadTimer({
    intervalMs: opts.heartbeatIntervalMs,
    size: () => order.length,
    fire: (i) => {
      const node = order[i]!;
      publishHeartbeat(nc, { type: 'Heartbeat', v: 1, data: { node: node.name, incarnation: node.incarnation, sentMs: Date.now() } });
    },
  });

  const stats = (): FleetStats => ({
    nodes: nodes.size,
    registered,
    commands,
    pods: podNode.size,
    rejected,
    publishPending: window.pending(),
  });
  let lastProgress = '';
  const progress = setInterval(() => {
    const s = stats();
    const key = JSON.stringify(s);
    if (key === lastProgress) return;
    lastProgress = key;
    log.info(s, 'fleet progress');
  }, PROGRESS_EVERY_MS);

  const started = Date.now();
  const registrations = await register(opts.names);
  lifecycle.to('live', { nodes: nodes.size, fromSeq: registrations[0]?.seq, ms: Date.now() - started });

  return {
    lifecycle,
    registrations,
    nodes: () => order.map((n) => n.name),
    incarnation: (name) => nodes.get(name)?.incarnation,
    running: (name) => [...(nodes.get(name)?.view.pods.keys() ?? [])],
    addNodes: (names) => register(names),
    stats,
    async stop(): Promise<void> {
      if (stopping) return;
      lifecycle.to('stopping', { nodes: nodes.size });
      spread.stop();
      clearInterval(progress);
      if (feedOpening) await (await feedOpening).stop();
      stopping = true;
      // Leave the fleet first (as the agent does): once a node is gone its pods go with it.
      const results = await Promise.allSettled(
        order.map((node) =>
          window.push({
            subject: nodeSubject(node.name),
            event: { type: 'NodeDeregistered', v: 1, data: { node: node.name, incarnation: node.incarnation } },
          }),
        ),
      );
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed) log.error({ failed }, 'some deregistrations failed');
      await driver.stopAll();
      podNode.clear();
      await window.idle();
      lifecycle.to('stopped', { deregistered: results.length - failed });
    },
  };
}

function capacity(): Labels {
  return {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
  };
}
