// What a run produces: per fault, the repetitions and their metrics (raw samples, median, p99,
// min, max, as the benchmarks give them), written as JSON and printed as a table.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MachineInfo, Versions } from '../bench/machine.js';
import { summarize, type Summary } from '../bench/stats.js';
import type { ChaosOptions } from './args.js';
import { FAULT_DESCRIPTIONS, type FaultName } from './faults.js';
import type { RepetitionResult } from './repetition.js';

/** Stable metric names: `recovery` (fault → rollout complete), `recovery-after-heal`, `outage` (fault → its end), `rollout` (set image → complete). */
export type MetricName = 'recovery' | 'recovery-after-heal' | 'outage' | 'rollout';

export interface ChaosMetric extends Summary {
  readonly name: MetricName;
  readonly unit: 'ms';
}

export interface FaultSummary {
  readonly fault: FaultName;
  readonly description: string;
  readonly reps: number;
  readonly completed: number;
  readonly stalled: number;
  /** Repetitions that could not be run (the cluster or the first rollout did not come up). */
  readonly errors: number;
  /** Breaks the audit found over all repetitions; null when the audit ran in none of them. */
  readonly auditBreaks: number | null;
  /** Repetitions whose audit could not run (`unavailable`: no `dsctl audit` in this build; `error`). */
  readonly auditUnavailable: number;
  readonly auditErrors: number;
  /** NodeNotReady verdicts over all repetitions, each false here (see RepetitionResult.falseNotReady); null when never read. */
  readonly falseNotReady: number | null;
  readonly metrics: readonly ChaosMetric[];
  readonly repetitions: readonly RepetitionResult[];
}

export interface ChaosResult {
  readonly suite: 'chaos';
  readonly mode: ChaosOptions['mode'];
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly faults: readonly FaultSummary[];
  /** Every repetition completed and no audit found a break (nor failed to run). */
  readonly passed: boolean;
  readonly notes: readonly string[];
}

function metricOf(name: MetricName, samples: readonly (number | undefined)[]): ChaosMetric {
  return { name, unit: 'ms', ...summarize(samples.filter((s): s is number => s !== undefined)) };
}

export function summarizeFault(fault: FaultName, repetitions: readonly RepetitionResult[]): FaultSummary {
  const audited = repetitions.flatMap((r) => (r.audit.status === 'clean' || r.audit.status === 'breaks' ? [r.audit.breaks.length] : []));
  const completed = repetitions.filter((r) => r.outcome === 'completed');
  return {
    fault,
    description: FAULT_DESCRIPTIONS[fault],
    reps: repetitions.length,
    completed: completed.length,
    stalled: repetitions.filter((r) => r.outcome === 'stalled').length,
    errors: repetitions.filter((r) => r.outcome === 'error').length,
    auditBreaks: audited.length > 0 ? audited.reduce((a, b) => a + b, 0) : null,
    auditUnavailable: repetitions.filter((r) => r.audit.status === 'unavailable').length,
    auditErrors: repetitions.filter((r) => r.audit.status === 'error').length,
    falseNotReady: repetitions.some((r) => r.falseNotReady !== undefined) ? repetitions.reduce((n, r) => n + (r.falseNotReady?.length ?? 0), 0) : null,
    metrics: [
      metricOf('recovery', completed.map((r) => r.recoveryMs)),
      metricOf('recovery-after-heal', completed.map((r) => r.recoveryAfterHealMs)),
      metricOf('outage', repetitions.map((r) => r.outageMs)),
      metricOf('rollout', completed.map((r) => r.rolloutMs)),
    ],
    repetitions,
  };
}

/** A fault passes when every repetition completed, every audit ran and found no break, and no node was judged NotReady. */
export function faultPassed(f: FaultSummary): boolean {
  return f.completed === f.reps && f.auditErrors === 0 && (f.auditBreaks ?? 0) === 0 && (f.falseNotReady ?? 0) === 0;
}

function secondsText(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '-';
}

export const TABLE_HEADERS = ['fault', 'reps', 'completed', 'stalled', 'errors', 'recovery p50', 'recovery max', 'audit breaks', 'false NotReady'] as const;

export function tableRows(faults: readonly FaultSummary[]): string[][] {
  return faults.map((f) => {
    const recovery = f.metrics.find((m) => m.name === 'recovery');
    const breaks =
      f.auditBreaks !== null
        ? `${f.auditBreaks}${f.auditUnavailable + f.auditErrors > 0 ? ` (${f.auditUnavailable + f.auditErrors} not audited)` : ''}`
        : f.auditErrors > 0
          ? 'audit failed'
          : 'unavailable';
    return [
      f.fault,
      String(f.reps),
      String(f.completed),
      String(f.stalled),
      String(f.errors),
      secondsText(recovery?.median ?? Number.NaN),
      secondsText(recovery?.max ?? Number.NaN),
      breaks,
      f.falseNotReady === null ? '-' : String(f.falseNotReady),
    ];
  });
}

/** The fault column left-aligned, figures right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatResult(result: ChaosResult): string {
  return formatTable(TABLE_HEADERS, tableRows(result.faults));
}

export async function writeJson(path: string, result: ChaosResult): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
}
