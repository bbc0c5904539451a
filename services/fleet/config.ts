// Fleet configuration: parsed once from the environment, frozen, units in the names.
//
// A fleet process hosts FLEET_NODES simulated nodes named `<FLEET_PREFIX><index>` for index
// FLEET_START_INDEX … FLEET_START_INDEX + FLEET_NODES - 1, over one NATS connection. Several
// fleets can run at once when their names do not overlap (another prefix or start index).
// Fleet state lives in memory only: a restarted fleet registers every node as a NEW incarnation
// (the controller drops the earlier incarnation's pods and places fresh ones).

import { BUS_SECURITY_ENV_VARS, readBusSecurity, type BusSecurity } from '../../libs/nats/connect.js';
import { EnvReader, type Env } from '../../libs/runtime/env.js';

/** Every variable the fleet reads. */
export const ENV_VARS = [
  'NATS_URL',
  ...BUS_SECURITY_ENV_VARS,
  'LOG_LEVEL',
  'FLEET_NODES',
  'FLEET_PREFIX',
  'FLEET_START_INDEX',
  'NODE_LABELS',
  'HEARTBEAT_INTERVAL_MS',
  'SIM_START_DELAY_MS',
  'SIM_READY_DELAY_MS',
  'SIM_FAIL_RATE',
  'SHUTDOWN_GRACE_MS',
] as const;

export interface FleetConfig {
  readonly natsUrl: string;
  /** Credentials and TLS for the bus (NATS_CREDS, NATS_TLS_*). */
  readonly security: BusSecurity;
  readonly logLevel: string;
  readonly nodes: number;
  readonly prefix: string;
  readonly startIndex: number;
  /** Extra labels of every node, on top of the kubelet-like defaults (hostname, os, arch). */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Each node heartbeats once per interval; the fleet spreads the nodes evenly over it. */
  readonly heartbeatIntervalMs: number;
  readonly simStartDelayMs: number;
  readonly simReadyDelayMs: number;
  readonly simFailRate: number;
  readonly shutdownGraceMs: number;
}

export const MAX_FLEET_NODES = 100_000;

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The node names of a fleet, in index order: `sim-1`, `sim-2`, … */
export function fleetNodeNames(prefix: string, startIndex: number, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(`${prefix}${startIndex + i}`);
  return names;
}

export function loadFleetConfig(env: Env): FleetConfig {
  const r = new EnvReader(env);
  const nodes = r.int('FLEET_NODES', 100, { min: 1, max: MAX_FLEET_NODES });
  const prefix = r.string('FLEET_PREFIX', 'sim-');
  const startIndex = r.int('FLEET_START_INDEX', 1, { min: 0 });
  // Every name is the prefix plus digits: checking the longest one checks them all.
  const sample = `${prefix}${startIndex + Math.max(0, nodes - 1)}`;
  if (sample.length > 253 || !NODE_NAME.test(sample)) {
    r.problem(`FLEET_PREFIX=${JSON.stringify(prefix)}: node names like ${JSON.stringify(sample)} must be DNS-1123 subdomains`);
  }
  const failRateRaw = r.optional('SIM_FAIL_RATE');
  const simFailRate = failRateRaw === undefined ? 0 : Number(failRateRaw);
  if (!(simFailRate >= 0 && simFailRate <= 1)) r.problem(`SIM_FAIL_RATE=${JSON.stringify(failRateRaw)}: expected a number from 0 to 1`);
  const cfg: FleetConfig = {
    natsUrl: r.string('NATS_URL', 'nats://127.0.0.1:4222'),
    security: readBusSecurity(r),
    logLevel: r.string('LOG_LEVEL', 'info'),
    nodes,
    prefix,
    startIndex,
    nodeLabels: r.labels('NODE_LABELS'),
    heartbeatIntervalMs: r.int('HEARTBEAT_INTERVAL_MS', 10_000, { min: 10 }),
    simStartDelayMs: r.int('SIM_START_DELAY_MS', 200, { min: 0 }),
    simReadyDelayMs: r.int('SIM_READY_DELAY_MS', 300, { min: 0 }),
    simFailRate: Number.isFinite(simFailRate) ? simFailRate : 0,
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 40_000, { min: 100 }),
  };
  r.done();
  return Object.freeze(cfg);
}
