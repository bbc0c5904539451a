// Agent configuration: parsed once from the environment, frozen, units in the names.

import { hostname } from 'node:os';
import { DEFAULT_PRESSURE_THRESHOLDS, parseThreshold, type PressureThresholds, type Threshold } from '../../libs/core/node-conditions.js';
import { BUS_SECURITY_ENV_VARS, readBusSecurity, type BusSecurity } from '../../libs/nats/connect.js';
import { EnvReader, type Env } from '../../libs/runtime/env.js';

/** Every variable the agent reads (the compose test checks compose.yaml sets only these). */
export const ENV_VARS = [
  'NATS_URL',
  ...BUS_SECURITY_ENV_VARS,
  'LOG_LEVEL',
  'NODE_NAME',
  'NODE_LABELS',
  'DATA_DIR',
  'DRIVER',
  'HEARTBEAT_INTERVAL_MS',
  'SIM_START_DELAY_MS',
  'SIM_READY_DELAY_MS',
  'SIM_FAIL_RATE',
  'SHUTDOWN_GRACE_MS',
  'CONDITIONS_INTERVAL_MS',
  'EVICTION_MEMORY_AVAILABLE',
  'EVICTION_NODEFS_AVAILABLE',
  'EVICTION_PIDS_AVAILABLE',
  'CONDITIONS_READINGS_FILE',
] as const;

export type DriverName = 'process' | 'sim';

export interface AgentConfig {
  readonly natsUrl: string;
  /** Credentials and TLS for the bus (NATS_CREDS, NATS_TLS_*). */
  readonly security: BusSecurity;
  readonly logLevel: string;
  readonly nodeName: string;
  /** Extra labels on top of the kubelet-like defaults (hostname, os, arch). */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** This node's own folder: its incarnation and command position survive restarts here. */
  readonly dataDir: string;
  readonly driver: DriverName;
  readonly heartbeatIntervalMs: number;
  readonly simStartDelayMs: number;
  readonly simReadyDelayMs: number;
  readonly simFailRate: number;
  readonly shutdownGraceMs: number;
  /** How often the machine is measured for MemoryPressure, DiskPressure and PIDPressure. */
  readonly conditionsIntervalMs: number;
  /** Eviction thresholds below which the node is under pressure (kubelet defaults). */
  readonly pressureThresholds: PressureThresholds;
  /** Test and simulation hook: a JSON file of readings laid over the machine's. */
  readonly conditionsReadingsFile?: string;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function loadAgentConfig(env: Env): AgentConfig {
  const r = new EnvReader(env);
  const nodeName = r.string('NODE_NAME', hostname().toLowerCase());
  if (nodeName.length > 253 || !NODE_NAME.test(nodeName)) {
    r.problem(`NODE_NAME=${JSON.stringify(nodeName)}: must be a DNS-1123 subdomain (lower case letters, digits, '-' and '.')`);
  }
  const failRateRaw = r.optional('SIM_FAIL_RATE');
  const simFailRate = failRateRaw === undefined ? 0 : Number(failRateRaw);
  if (!(simFailRate >= 0 && simFailRate <= 1)) r.problem(`SIM_FAIL_RATE=${JSON.stringify(failRateRaw)}: expected a number from 0 to 1`);
  const threshold = (name: string, fallback: Threshold): Threshold => {
    const raw = r.optional(name);
    if (raw === undefined) return fallback;
    const parsed = parseThreshold(raw);
    if (parsed.ok) return parsed.threshold;
    r.problem(`${name}=${JSON.stringify(raw)}: ${parsed.error}`);
    return fallback;
  };
  const readingsFile = r.optional('CONDITIONS_READINGS_FILE');
  const cfg: AgentConfig = {
    natsUrl: r.string('NATS_URL', 'nats://127.0.0.1:4222'),
    security: readBusSecurity(r),
    logLevel: r.string('LOG_LEVEL', 'info'),
    nodeName,
    nodeLabels: r.labels('NODE_LABELS'),
    dataDir: r.string('DATA_DIR', `./.data/agents/${nodeName}`),
    driver: r.oneOf<DriverName>('DRIVER', ['process', 'sim'], 'process'),
    heartbeatIntervalMs: r.int('HEARTBEAT_INTERVAL_MS', 10_000, { min: 10 }),
    simStartDelayMs: r.int('SIM_START_DELAY_MS', 200, { min: 0 }),
    simReadyDelayMs: r.int('SIM_READY_DELAY_MS', 300, { min: 0 }),
    simFailRate: Number.isFinite(simFailRate) ? simFailRate : 0,
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 40_000, { min: 100 }),
    conditionsIntervalMs: r.int('CONDITIONS_INTERVAL_MS', 10_000, { min: 10 }),
    pressureThresholds: {
      ...DEFAULT_PRESSURE_THRESHOLDS,
      'memory.available': threshold('EVICTION_MEMORY_AVAILABLE', DEFAULT_PRESSURE_THRESHOLDS['memory.available']),
      'nodefs.available': threshold('EVICTION_NODEFS_AVAILABLE', DEFAULT_PRESSURE_THRESHOLDS['nodefs.available']),
      'pid.available': threshold('EVICTION_PIDS_AVAILABLE', DEFAULT_PRESSURE_THRESHOLDS['pid.available']),
    },
    ...(readingsFile !== undefined ? { conditionsReadingsFile: readingsFile } : {}),
  };
  r.done();
  return Object.freeze(cfg);
}
