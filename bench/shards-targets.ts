// The goals of issue #14 (controllers read only their own slots) for the shards scenario, judged
// from its figures: 4 controllers against 1, and the handover against the lease TTL. Pure.

import { formatNumber, type TargetCheck } from './result.js';

/** The figures the goals compare; NaN where a figure was not measured. */
export interface ShardsFigures {
  /** Median total CPU of the controllers per run, cpu s. */
  readonly cpuTotal1: number;
  readonly cpuTotal4: number;
  /** Peak RSS (VmHWM) of the largest controller, MB. */
  readonly peakRss1Mb: number;
  readonly peakRss4Mb: number;
  /** Log messages read by the busiest of 4 controllers ÷ log messages. */
  readonly logReadRatio4: number;
  /** Handover after kill -9 with 4 controllers, p99, ms. */
  readonly handoverP99Ms: number;
  /** LEASE_TTL_MS of those controllers. */
  readonly leaseTtlMs: number;
  /** Median converge time, s. */
  readonly converge1S: number;
  readonly converge4S: number;
}

/** The factors and margins. */
export const SHARDS_GOALS = {
  cpuTotalOf1: 1.3,
  peakRssOf1: 0.4,
  logReadShare: 0.4,
  handoverOverTtlMs: 1_000,
  convergeOf1: 1.2,
} as const;

function check(goal: string, actual: number, limit: number, unit: string, limitFrom: string): TargetCheck {
  const verdict = !Number.isFinite(actual) || !Number.isFinite(limit) ? 'unknown' : actual <= limit ? 'met' : 'missed';
  return { goal, actual, limit, unit, limitFrom, verdict };
}

/** Each goal of #14, `actual ≤ limit`, in the order. */
export function shardsTargets(f: ShardsFigures): TargetCheck[] {
  const g = SHARDS_GOALS;
  return [
    check(
      `total controller CPU with 4 ≤ ${g.cpuTotalOf1} × that of 1`,
      f.cpuTotal4,
      g.cpuTotalOf1 * f.cpuTotal1,
      'cpu s',
      `${g.cpuTotalOf1} × ${formatNumber(f.cpuTotal1)}`,
    ),
    check(
      `peak RSS of the largest of 4 ≤ ${g.peakRssOf1} × that of 1`,
      f.peakRss4Mb,
      g.peakRssOf1 * f.peakRss1Mb,
      'MB',
      `${g.peakRssOf1} × ${formatNumber(f.peakRss1Mb)}`,
    ),
    check(`messages read by the busiest of 4 ≤ ${g.logReadShare} of the log`, f.logReadRatio4, g.logReadShare, 'ratio', ''),
    check(
      'handover p99 ≤ lease TTL + 1 s',
      f.handoverP99Ms,
      f.leaseTtlMs + g.handoverOverTtlMs,
      'ms',
      `${formatNumber(f.leaseTtlMs)} + ${formatNumber(g.handoverOverTtlMs)}`,
    ),
    check(
      `converge with 4 ≤ ${g.convergeOf1} × converge with 1`,
      f.converge4S,
      g.convergeOf1 * f.converge1S,
      's',
      `${g.convergeOf1} × ${formatNumber(f.converge1S)}`,
    ),
  ];
}
