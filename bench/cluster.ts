// A throwaway cluster for one scenario: its own nats-server (free ports, temporary store), the
// real controller as a separate process, and fleets as separate processes, plus the helpers
// every scenario needs: apply a DaemonSet, and wait on the log (never on dsctl polling).

import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DsStatus } from '../libs/core/state.js';
import type { DaemonSetApplied, Envelope } from '../libs/events/types.js';
import { connectBus } from '../libs/nats/connect.js';
import { decodeLogMessage } from '../libs/nats/log-reader.js';
import { ensureTopology } from '../libs/nats/topology.js';
import { dsStatusSubject, dsSubject, LOG_STREAM } from '../libs/topology/names.js';
import { dsSlot } from '../libs/topology/slot.js';
import { applyManifests, lastSpec, parseManifests } from '../services/cli/apply.js';
import { startNats, type TestNats } from '../test/support/nats-server.js';
import { spawnService, type ServiceProcess } from '../test/support/processes.js';
import type { ScenarioContext } from './context.js';
import { profileDir } from './profile.js';
import type { Progress } from './progress.js';
import { BENCH_NAMESPACE, daemonSetManifest } from './workload.js';

/** Creates per reconcile pass: high, so a 10,000-node DaemonSet is placed in one pass. */
export const BENCH_BURST = 100_000;
const START_TIMEOUT_MS = 60_000;
/** The bench's preload for services: CPU profile, memory reports (see probe-preload.ts). */
const PRELOAD = new URL('./probe-preload.js', import.meta.url).href;

export interface FleetSpec {
  readonly nodes: number;
  readonly prefix?: string;
  readonly startIndex?: number;
  readonly heartbeatIntervalMs?: number;
  readonly simStartDelayMs?: number;
  readonly simReadyDelayMs?: number;
}

export interface ClusterOptions {
  readonly progress: Progress;
  /** Write the controller's CPU profile into this folder (see probe-preload.ts). */
  readonly profileDir?: string;
  readonly controllerEnv?: Readonly<Record<string, string>>;
  /** Run this controller entry instead of dist/services/controller/main.js (a candidate build). */
  readonly controllerEntry?: string;
  /** The controller writes process.memoryUsage() to this file every second. */
  readonly memoryReportFile?: string;
}

export interface Cluster {
  readonly nats: TestNats;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly slots: number;
  readonly controller: ServiceProcess;
  readonly serverVersion: string;
  startFleet(spec: FleetSpec): Promise<ServiceProcess>;
  /** Resolves once every consumer of the log (controller, fleets) has been sent everything written so far. */
  waitFoldedUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const nats = await startNats();
  const nc = await connectBus({ url: nats.url, name: 'bench', once: true });
  const fleets: ServiceProcess[] = [];
  let controller: ServiceProcess | undefined;
  const profileEnv: Record<string, string> = opts.profileDir ? { NODE_OPTIONS: `--import=${PRELOAD}`, CPU_PROFILE_DIR: opts.profileDir } : {};
  const memoryEnv: Record<string, string> = opts.memoryReportFile
    ? { NODE_OPTIONS: `--import=${PRELOAD}`, MEMORY_REPORT_FILE: opts.memoryReportFile }
    : {};
  try {
    const { slots } = await ensureTopology(nc);
    const jsm = await jetstreamManager(nc);
    controller = spawnService('controller', opts.controllerEntry ?? 'dist/services/controller/main.js', {
      NATS_URL: nats.url,
      CONTROLLER_ID: 'bench',
      BURST: String(BENCH_BURST),
      LOG_LEVEL: 'info',
      ...profileEnv,
      ...memoryEnv,
      ...opts.controllerEnv,
    });
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired', { timeoutMs: START_TIMEOUT_MS, message: 'slots acquired' });
    const ctl = controller;

    const waitFoldedUp = async (timeoutMs = START_TIMEOUT_MS): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let behind = 0;
        for await (const ci of jsm.consumers.list(LOG_STREAM) as AsyncIterable<ConsumerInfo | null>) {
          // A consumer deleted while the server builds the list comes back as null (fixed in
          // nats-server PR #4669, after 2.9): controllers stop a slot's reader when they hand it over.
          if (ci === null) continue;
          // The bench's own readers (closed ones linger on the server for minutes) do not count.
          if (ci.name.startsWith(BENCH_CONSUMER_PREFIX)) continue;
          behind += ci.num_pending;
        }
        if (behind === 0) return;
        if (Date.now() > deadline) throw new Error(`log consumers still ${behind} messages behind after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    return {
      nats,
      nc,
      jsm,
      slots,
      controller: ctl,
      serverVersion: nc.info?.version ?? 'unknown',
      async startFleet(spec: FleetSpec): Promise<ServiceProcess> {
        const prefix = spec.prefix ?? 'sim-';
        const fleet = spawnService(`fleet ${prefix}`, 'dist/services/fleet/main.js', {
          NATS_URL: nats.url,
          FLEET_NODES: String(spec.nodes),
          FLEET_PREFIX: prefix,
          FLEET_START_INDEX: String(spec.startIndex ?? 1),
          HEARTBEAT_INTERVAL_MS: String(spec.heartbeatIntervalMs ?? 10_000),
          SIM_START_DELAY_MS: String(spec.simStartDelayMs ?? 0),
          SIM_READY_DELAY_MS: String(spec.simReadyDelayMs ?? 0),
          LOG_LEVEL: 'info',
          ...profileEnv,
        });
        fleets.push(fleet);
        opts.progress.say(`  fleet: registering ${spec.nodes} nodes (${prefix}${spec.startIndex ?? 1}…)`);
        const live = await fleet.waitForLog((l) => l.json?.['msg'] === 'lifecycle' && l.json['phase'] === 'live', {
          timeoutMs: START_TIMEOUT_MS,
          message: 'fleet live',
        });
        opts.progress.say(`  fleet: ${spec.nodes} nodes registered in ${String(live.json?.['ms'])} ms`);
        await waitFoldedUp();
        return fleet;
      },
      waitFoldedUp,
      async stop(): Promise<void> {
        // The controller first, then the fleets (SIGTERM: a profiled process writes its profile
        // on a clean exit; unprofiled fleets are killed, the server is thrown away anyway).
        await ctl.stop('SIGTERM', 20_000);
        for (const f of fleets) {
          if (opts.profileDir) await f.stop('SIGTERM', 30_000);
          else await f.kill9();
        }
        await nc.close();
        await nats.stop();
      },
    };
  } catch (err) {
    await controller?.kill9();
    for (const f of fleets) await f.kill9();
    await nc.close();
    await nats.stop();
    throw err;
  }
}

/** A scenario's cluster, with the run's controller settings and, when asked, profiling. */
export async function startScenarioCluster(
  ctx: ScenarioContext,
  scenario: string,
  extra: { readonly memoryReportFile?: string; readonly controllerEnv?: Readonly<Record<string, string>> } = {},
): Promise<{ cluster: Cluster; profileDir: string | undefined }> {
  const dir = ctx.profile ? profileDir(ctx.outDir, scenario) : undefined;
  const cluster = await startCluster({
    progress: ctx.progress,
    controllerEnv: ctx.controllerEnv,
    ...(ctx.controllerEntry ? { controllerEntry: ctx.controllerEntry } : {}),
    ...(dir ? { profileDir: dir } : {}),
    ...extra,
  });
  return { cluster, profileDir: dir };
}

export interface AppliedDs {
  readonly name: string;
  readonly slot: number;
  readonly seq: number;
  readonly timeMs: number;
  readonly event: DaemonSetApplied;
}

/** `dsctl apply` of one bench DaemonSet (through the CLI's own applyManifests). */
export async function applyDaemonSet(cluster: Cluster, name: string, image: string, maxUnavailable = '10%'): Promise<AppliedDs> {
  await applyManifests(cluster.nc, await parseManifests(daemonSetManifest(name, image, maxUnavailable), 'bench'));
  return appliedSpec(cluster, name);
}

/** The last DaemonSetApplied of a bench DaemonSet, with its sequence and stream time. */
export async function appliedSpec(cluster: Cluster, name: string): Promise<AppliedDs> {
  const slot = dsSlot(BENCH_NAMESPACE, name, cluster.slots);
  const last = await lastSpec(cluster.jsm, dsSubject(slot, BENCH_NAMESPACE, name));
  if (!last || last.event.type !== 'DaemonSetApplied') throw new Error(`DaemonSet ${name} was not applied`);
  const stored = await cluster.jsm.streams.getMessage(LOG_STREAM, { seq: last.seq });
  return { name, slot, seq: last.seq, timeMs: stored?.time.getTime() ?? Date.now(), event: last.event };
}

/** Name prefix of the bench's own log readers: waitFoldedUp ignores them. */
export const BENCH_CONSUMER_PREFIX = 'bench';

let readers = 0;
/** A fresh ordered-consumer name prefix (a closed one lingers on the server under its name). */
export function benchConsumerPrefix(): string {
  readers++;
  return `${BENCH_CONSUMER_PREFIX}${process.pid}r${readers}`;
}

export interface LogFollower {
  stop(): Promise<void>;
}

/**
 * Follows the log from `fromSeq` (one filter or none) with an ordered consumer named
 * `bench_…`, handing each valid envelope over in order.
 */
export async function followLog(
  nc: NatsConnection,
  opts: { fromSeq: number; filter?: string },
  onEnvelope: (env: Envelope) => void,
): Promise<LogFollower> {
  const consumer = await jetstream(nc).consumers.get(LOG_STREAM, {
    name_prefix: benchConsumerPrefix(),
    ...(opts.filter ? { filter_subjects: opts.filter } : {}),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, opts.fromSeq),
  });
  const iter = await consumer.consume({
    callback: (msg) => {
      const r = decodeLogMessage(msg);
      if (r.ok) onEnvelope(r.env);
    },
  });
  return {
    async stop() {
      await iter.close();
    },
  };
}

/**
 * Follows the log (from `fromSeq`, one filter or none) until `done(env)` holds; `hit` resolves
 * with that envelope, or rejects after `timeoutMs`. Start it before causing what it waits for.
 */
export async function watchLog(
  nc: NatsConnection,
  opts: { fromSeq: number; filter?: string; timeoutMs: number; what: string },
  done: (env: Envelope) => boolean,
): Promise<{ readonly hit: Promise<Envelope> }> {
  let resolveHit!: (env: Envelope) => void;
  let rejectHit!: (err: Error) => void;
  let seen: Envelope | undefined;
  const hit = new Promise<Envelope>((resolve, reject) => {
    resolveHit = resolve;
    rejectHit = reject;
  });
  const follower = await followLog(nc, opts, (env) => {
    if (seen || !done(env)) return;
    seen = env;
    resolveHit(env);
  });
  const timer = setTimeout(() => rejectHit(new Error(`${opts.what}: not seen on the log within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  const settled = hit.finally(() => {
    clearTimeout(timer);
    return follower.stop();
  });
  // Callers await `hit`; the follower stops either way.
  settled.catch(() => undefined);
  return { hit };
}

/** watchLog, awaited. */
export async function waitOnLog(
  nc: NatsConnection,
  opts: { fromSeq: number; filter?: string; timeoutMs: number; what: string },
  done: (env: Envelope) => boolean,
): Promise<Envelope> {
  return (await watchLog(nc, opts, done)).hit;
}

/** Waits for the status of `ds` to show every one of `nodes` scheduled, updated and ready. */
export async function waitConverged(
  cluster: Cluster,
  ds: AppliedDs,
  nodes: number,
  opts: { timeoutMs: number; progress: Progress },
): Promise<Envelope> {
  const generation = ds.event.data.generation;
  return waitOnLog(
    cluster.nc,
    {
      fromSeq: ds.seq + 1,
      filter: dsStatusSubject(ds.slot, BENCH_NAMESPACE, ds.name),
      timeoutMs: opts.timeoutMs,
      what: `${ds.name} generation ${generation} ready on ${nodes} nodes`,
    },
    (env) => {
      if (env.event.type !== 'DaemonSetStatusUpdated') return false;
      const s: DsStatus = env.event.data.status;
      opts.progress.tick(ds.name, () => `ready ${s.numberReady}/${nodes}, updated ${s.updatedNumberScheduled}, unavailable ${s.numberUnavailable}`);
      return (
        s.observedGeneration >= generation &&
        s.desiredNumberScheduled === nodes &&
        s.currentNumberScheduled === nodes &&
        s.updatedNumberScheduled === nodes &&
        s.numberReady === nodes &&
        s.numberAvailable === nodes
      );
    },
  );
}

