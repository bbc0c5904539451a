// What a scenario produces: metrics with raw samples, median and p99, each shown beside the
// baseline figures (raw JetStream) of the same run; written as bench/results/<scenario>.json and
// printed as a table.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineInfo, Versions } from './machine.js';
import { summarize, type Summary } from './stats.js';

export type ScenarioName = 'baseline' | 'converge' | 'react' | 'rollout' | 'replay' | 'steady' | 'cli' | 'handover' | 'shards';
export const SCENARIOS: readonly ScenarioName[] = ['baseline', 'converge', 'react', 'rollout', 'replay', 'steady', 'cli', 'handover', 'shards'];

/** A goal from the issue: `value <op> target` must hold. */
export interface Target {
  readonly op: '<' | '>=';
  readonly value: number;
}

/** Raw JetStream on the same machine in the same run: the physical limit. */
export interface BaselineFigures {
  /** Pipelined publish (1024 in flight, msg ids, real event payloads), msg/s. */
  readonly publish: Summary;
  /** Ordered-consumer read of the same stream, msg/s. */
  readonly read: Summary;
  readonly messagesPerRun: number;
  readonly payloadBytes: Readonly<Record<string, number>>;
}

/**
 * A goal that compares figures (e.g. 4 controllers against 1), judged once the scenario is done:
 * `actual ≤ limit`; unknown when either was not measured.
 */
export interface TargetCheck {
  /** The goal as the issue states it. */
  readonly goal: string;
  readonly actual: number;
  readonly limit: number;
  readonly unit: string;
  /** How the limit was derived, e.g. `1.3 × 4.61` (empty for a fixed limit). */
  readonly limitFrom: string;
  readonly verdict: 'met' | 'missed' | 'unknown';
}

export interface Metric extends Summary {
  readonly name: string;
  readonly unit: string;
  readonly target?: Target;
  /** Whether the median meets the target (p99 for latencies named `… p99`). */
  readonly met?: boolean;
  /** This metric as a fraction of a baseline figure (e.g. log msg/s ÷ baseline publish msg/s). */
  readonly ofBaseline?: { readonly figure: 'publish' | 'read'; readonly ratio: number };
  /** The same run's baseline medians, beside every figure. */
  readonly baseline: { readonly publishPerSec: number; readonly readPerSec: number };
}

export interface ScenarioResult {
  readonly scenario: ScenarioName;
  readonly mode: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly metrics: readonly Metric[];
  readonly baseline: BaselineFigures;
  readonly notes: readonly string[];
  readonly targets?: readonly TargetCheck[];
}

export interface MetricInput {
  readonly name: string;
  readonly unit: string;
  readonly samples: readonly number[];
  readonly target?: Target;
  /** Judge the target on p99 instead of the median. */
  readonly targetOnP99?: boolean;
  readonly ofBaseline?: 'publish' | 'read';
}

export function metric(input: MetricInput, baseline: BaselineFigures): Metric {
  const s = summarize(input.samples);
  const judged = input.targetOnP99 ? s.p99 : s.median;
  const met = input.target ? (input.target.op === '<' ? judged < input.target.value : judged >= input.target.value) : undefined;
  const base = input.ofBaseline === 'read' ? baseline.read.median : baseline.publish.median;
  return {
    name: input.name,
    unit: input.unit,
    ...s,
    ...(input.target ? { target: input.target, met } : {}),
    ...(input.ofBaseline ? { ofBaseline: { figure: input.ofBaseline, ratio: s.median / base } } : {}),
    baseline: { publishPerSec: baseline.publish.median, readPerSec: baseline.read.median },
  };
}

export async function writeResult(dir: string, result: ScenarioResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${result.scenario}.json`);
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function targetText(m: Metric): string {
  if (!m.target) return '';
  return `${m.target.op} ${formatNumber(m.target.value)}${m.met ? ' ok' : ' MISSED'}`;
}

/** Text columns are left-aligned, figures right-aligned. */
const TEXT_COLUMNS = new Set(['scenario', 'metric', 'unit', 'target', 'of baseline']);

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (TEXT_COLUMNS.has(headers[i] ?? '') ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const TABLE_HEADERS = ['scenario', 'metric', 'median', 'p99', 'unit', 'target', 'of baseline', 'baseline pub/s', 'baseline read/s'] as const;

export function tableRows(result: ScenarioResult): string[][] {
  return result.metrics.map((m) => [
    result.scenario,
    m.name,
    formatNumber(m.median),
    formatNumber(m.p99),
    m.unit,
    targetText(m),
    m.ofBaseline ? `${(m.ofBaseline.ratio * 100).toFixed(1)}% of ${m.ofBaseline.figure}` : '',
    formatNumber(m.baseline.publishPerSec),
    formatNumber(m.baseline.readPerSec),
  ]);
}

export function formatResult(result: ScenarioResult): string {
  return formatTable(TABLE_HEADERS, tableRows(result));
}

const VERDICT_TEXT: Readonly<Record<TargetCheck['verdict'], string>> = { met: 'met', missed: 'MISSED', unknown: 'unknown' };

/** One line per goal: verdict, goal, then the figure against its limit (`-` where not measured). */
export function formatTargets(checks: readonly TargetCheck[]): string {
  const width = Math.max(...checks.map((c) => VERDICT_TEXT[c.verdict].length));
  return checks
    .map((c) => {
      const limit = `limit ${formatNumber(c.limit)}${c.limitFrom ? ` = ${c.limitFrom}` : ''}`;
      return `  ${VERDICT_TEXT[c.verdict].padEnd(width)}  ${c.goal}: ${formatNumber(c.actual)} ${c.unit} (${limit})`;
    })
    .join('\n');
}
