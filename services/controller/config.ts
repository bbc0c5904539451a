// Controller configuration: parsed once from the environment, frozen, units in the names.

import { hostname } from 'node:os';
import { BUS_SECURITY_ENV_VARS, readBusSecurity, type BusSecurity } from '../../libs/nats/connect.js';
import { EnvReader, type Env } from '../../libs/runtime/env.js';
import { DEFAULT_SLOTS } from '../../libs/topology/names.js';

/** Every variable the controller reads (the compose test checks compose.yaml sets only these). */
export const ENV_VARS = [
  'NATS_URL',
  ...BUS_SECURITY_ENV_VARS,
  'LOG_LEVEL',
  'CONTROLLER_ID',
  'SLOTS',
  'STREAM_REPLICAS',
  'NODE_GRACE_MS',
  'NODE_UNHEALTHY_PERCENT',
  'RESYNC_MS',
  'LEASE_TTL_MS',
  'SHUTDOWN_GRACE_MS',
  'BURST',
  'SNAPSHOT_EVERY_EVENTS',
  'SNAPSHOT_EVERY_MS',
] as const;

export interface ControllerConfig {
  readonly natsUrl: string;
  /** Credentials and TLS for the bus (NATS_CREDS, NATS_TLS_*). */
  readonly security: BusSecurity;
  readonly logLevel: string;
  /** Stable across restarts so a restarted controller re-takes its own leases at once. */
  readonly controllerId: string;
  readonly slots: number;
  readonly streamReplicas: number;
  /** A node whose heartbeats stop for this long is NotReady (Kubernetes' node-monitor-grace-period). */
  readonly nodeGraceMs: number;
  /**
   * When at least this share of the nodes a controller judges is silent at once (and more than 2),
   * it holds NotReady verdicts (Kubernetes' --unhealthy-zone-threshold, 55). Above 100 never holds.
   */
  readonly nodeUnhealthyPercent: number;
  /** Every DaemonSet of an owned slot is reconciled again at this period (0: never). */
  readonly resyncMs: number;
  readonly leaseTtlMs: number;
  readonly shutdownGraceMs: number;
  /** Creates (and, separately, deletes) per reconcile pass of one DaemonSet (Kubernetes' BurstReplicas). */
  readonly burst: number;
  /** Write a snapshot after this many events folded since the last one (0: never on count). */
  readonly snapshotEveryEvents: number;
  /** ...or after this long when anything was folded since (0: never on time). */
  readonly snapshotEveryMs: number;
}

export function loadControllerConfig(env: Env): ControllerConfig {
  const r = new EnvReader(env);
  const cfg: ControllerConfig = {
    natsUrl: r.string('NATS_URL', 'nats://127.0.0.1:4222'),
    security: readBusSecurity(r),
    logLevel: r.string('LOG_LEVEL', 'info'),
    controllerId: r.string('CONTROLLER_ID', `controller-${hostname()}`),
    slots: r.int('SLOTS', DEFAULT_SLOTS, { min: 1, max: 4096 }),
    streamReplicas: r.int('STREAM_REPLICAS', 1, { min: 1, max: 5 }),
    nodeGraceMs: r.int('NODE_GRACE_MS', 40_000, { min: 100 }),
    nodeUnhealthyPercent: r.int('NODE_UNHEALTHY_PERCENT', 55, { min: 1, max: 101 }),
    resyncMs: r.int('RESYNC_MS', 10_000, { min: 0 }),
    leaseTtlMs: r.int('LEASE_TTL_MS', 15_000, { min: 500 }),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, { min: 100 }),
    burst: r.int('BURST', 250, { min: 1, max: 100_000 }),
    snapshotEveryEvents: r.int('SNAPSHOT_EVERY_EVENTS', 50_000, { min: 0 }),
    snapshotEveryMs: r.int('SNAPSHOT_EVERY_MS', 300_000, { min: 0 }),
  };
  r.done();
  return Object.freeze(cfg);
}
