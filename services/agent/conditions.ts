// The agent's condition monitor: measures the machine every CONDITIONS_INTERVAL_MS, turns the
// readings into pressure taints (libs/core/node-conditions.ts) and publishes the agent's taint
// set (NodeTaintsSet, source agent) once at start and then only when the set changes.

import type { Logger } from 'pino';
import { pressureTaints, type NodeReadings, type PressureThresholds } from '../../libs/core/node-conditions.js';
import type { Taint } from '../../libs/model/types.js';
import { readMachine } from './conditions/machine-readings.js';
import { overlayReadings, readReadingsOverride } from './conditions/readings-file.js';

export interface ConditionMonitorOptions {
  /** The node filesystem is the one holding this folder. */
  readonly dataDir: string;
  readonly intervalMs: number;
  readonly thresholds: PressureThresholds;
  /** Test and simulation hook: JSON readings laid over the machine's (see conditions/readings-file.ts). */
  readonly readingsFile?: string;
  /** Writes the agent's whole taint set; a rejection is retried at the next check. */
  readonly publish: (taints: readonly Taint[]) => Promise<void>;
  readonly log: Logger;
  /** Where readings come from; the real machine by default. */
  readonly readMachine?: (dataDir: string) => Promise<NodeReadings>;
}

export interface ConditionMonitor {
  /** The taints of the last check. */
  taints(): readonly Taint[];
  /** Stops checking; waits for a check under way. */
  stop(): Promise<void>;
}

function sameTaints(a: readonly Taint[], b: readonly Taint[]): boolean {
  const key = (ts: readonly Taint[]): string => ts.map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).join(',');
  return key(a) === key(b);
}

/** Checks once (and publishes) before it resolves, then every `intervalMs`. */
export async function startConditionMonitor(opts: ConditionMonitorOptions): Promise<ConditionMonitor> {
  const measure = opts.readMachine ?? readMachine;
  let current: readonly Taint[] = [];
  let published: readonly Taint[] | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const readings = async (): Promise<NodeReadings> => {
    const machine = await measure(opts.dataDir);
    if (opts.readingsFile === undefined) return machine;
    const r = await readReadingsOverride(opts.readingsFile);
    if (!r.ok) {
      opts.log.warn({ file: opts.readingsFile, problem: r.error }, 'readings file ignored');
      return machine;
    }
    return overlayReadings(machine, r.override);
  };

  const check = async (): Promise<void> => {
    const now = await readings();
    current = pressureTaints(now, opts.thresholds, current);
    if (published !== undefined && sameTaints(published, current)) return;
    const next = current;
    try {
      await opts.publish(next);
      opts.log.info({ taints: next.map((t) => `${t.key}:${t.effect}`), readings: now }, 'node conditions published');
      published = next;
    } catch (err) {
      opts.log.error({ err }, 'publishing node conditions failed; retrying at the next check');
    }
  };

  const guarded = (): Promise<void> => check().catch((err: unknown) => opts.log.error({ err }, 'node condition check failed'));
  let running: Promise<void> = guarded();
  await running;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = guarded().finally(schedule);
    }, opts.intervalMs);
    // The agent's lifetime is its connection's, not this timer's.
    timer.unref();
  };
  schedule();

  return {
    taints: () => current,
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
