// Command line of `npm run chaos`: which faults, how many repetitions, how long, written where.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { commaList } from '../bench/args.js';
import { FAULTS, FAULT_DESCRIPTIONS, isFaultName, type FaultName } from './faults.js';

/** Settings of the throwaway cluster every repetition starts; recorded in the JSON. */
export interface ClusterSettings {
  readonly nodes: number;
  /** Two, so that a stopped controller's slots can go to the other. */
  readonly controllers: number;
  readonly leaseTtlMs: number;
  /** Shorter than the default stop of nats-server: a bus outage outlasts it, and must not read as a fleet dying. */
  readonly nodeGraceMs: number;
  readonly heartbeatIntervalMs: number;
  readonly minReadySeconds: number;
}

export interface ChaosOptions {
  readonly faults: readonly FaultName[];
  readonly reps: number;
  readonly mode: 'quick' | 'full' | 'custom';
  readonly natsStopMs: number;
  readonly controllerStopMs: number;
  /** Per repetition: from the fault to a complete rollout, else the repetition is STALLED. */
  readonly repTimeoutMs: number;
  readonly cluster: ClusterSettings;
  /** Where the JSON goes; undefined: chaos/results/chaos-<timestamp>.json and latest.json. */
  readonly jsonPath: string | undefined;
  /** Keep every repetition's cluster log, not only those of failed ones. */
  readonly keepLogs: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const FULL = Object.freeze({ reps: 3, natsStopSeconds: 20, controllerStopSeconds: 10, timeoutSeconds: 120, nodes: 3, minReadySeconds: 3 });
/** One repetition of each fault with shorter stops: the CI version, about 2.5 minutes on 2 cores. */
const QUICK = Object.freeze({ reps: 1, natsStopSeconds: 12, controllerStopSeconds: 8, timeoutSeconds: 45, nodes: 3, minReadySeconds: 2 });
const LEASE_TTL_MS = 5_000;
const NODE_GRACE_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 2_000;

export const USAGE = `usage: npm run chaos -- [--faults NAME[,NAME…]] [--reps N] [--quick] [--stop-seconds N]
                          [--controller-stop-seconds N] [--timeout-seconds N] [--nodes N]
                          [--json PATH] [--keep-logs]

Runs each fault mid-rollout against a fresh local cluster (scripts/local-cluster: one nats-server,
2 controllers, --nodes agents with the process driver, loopback only), measures the time from the
fault to the rollout complete, then counts the breaks \`dsctl audit\` finds in the log.

  --faults NAMES            ${FAULTS.join(', ')} (default all)
${FAULTS.map((f) => `                              ${f}: ${FAULT_DESCRIPTIONS[f]}`).join('\n')}
  --reps N                  repetitions of each fault (default ${FULL.reps}; --quick ${QUICK.reps})
  --quick                   1 repetition of each, shorter stops and bounds (for CI)
  --stop-seconds N          how long nats-stop keeps nats-server stopped (default ${FULL.natsStopSeconds}; --quick ${QUICK.natsStopSeconds})
  --controller-stop-seconds N  how long controller-stop keeps the controller stopped (default ${FULL.controllerStopSeconds};
                            --quick ${QUICK.controllerStopSeconds}; the lease TTL is ${LEASE_TTL_MS / 1000} s)
  --timeout-seconds N       bound from the fault to a complete rollout; past it the repetition is
                            STALLED (default ${FULL.timeoutSeconds}; --quick ${QUICK.timeoutSeconds})
  --nodes N                 agents (default ${FULL.nodes})
  --json PATH               write the JSON here (default chaos/results/chaos-<timestamp>.json and latest.json)
  --keep-logs               keep every repetition's cluster log (default: only failed ones), beside the JSON

Exit status: 0 when every rollout completed and the audit found no break; 1 otherwise; 2 on bad usage.`;

function wholeNumber(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  return n;
}

export function parseChaosArgs(argv: readonly string[], cwd: string): ChaosOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        faults: { type: 'string', multiple: true },
        reps: { type: 'string' },
        quick: { type: 'boolean', default: false },
        'stop-seconds': { type: 'string' },
        'controller-stop-seconds': { type: 'string' },
        'timeout-seconds': { type: 'string' },
        nodes: { type: 'string' },
        json: { type: 'string' },
        'keep-logs': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const names = commaList(v.faults);
  for (const name of names) {
    if (!isFaultName(name)) throw new UsageError(`unknown fault ${JSON.stringify(name)}: expected one of ${FAULTS.join(', ')}`);
  }
  const base = v.quick ? QUICK : FULL;
  const reps = wholeNumber('reps', v.reps, 1, 1000);
  const stop = wholeNumber('stop-seconds', v['stop-seconds'], 1, 3600);
  const controllerStop = wholeNumber('controller-stop-seconds', v['controller-stop-seconds'], 1, 3600);
  const timeout = wholeNumber('timeout-seconds', v['timeout-seconds'], 5, 3600);
  const nodes = wholeNumber('nodes', v.nodes, 1, 50);
  const custom = [reps, stop, controllerStop, timeout, nodes].some((x) => x !== undefined) || names.length > 0;
  return {
    faults: names.length > 0 ? FAULTS.filter((f) => names.includes(f)) : FAULTS,
    reps: reps ?? base.reps,
    mode: custom ? 'custom' : v.quick ? 'quick' : 'full',
    natsStopMs: (stop ?? base.natsStopSeconds) * 1000,
    controllerStopMs: (controllerStop ?? base.controllerStopSeconds) * 1000,
    repTimeoutMs: (timeout ?? base.timeoutSeconds) * 1000,
    cluster: {
      nodes: nodes ?? base.nodes,
      controllers: 2,
      leaseTtlMs: LEASE_TTL_MS,
      nodeGraceMs: NODE_GRACE_MS,
      heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
      minReadySeconds: base.minReadySeconds,
    },
    jsonPath: v.json !== undefined ? resolve(cwd, v.json) : undefined,
    keepLogs: v['keep-logs'],
  };
}
