// What every scenario gets: its sizes, where results go, progress output, and the baseline
// figures measured earlier in the same run.

import type { Progress } from './progress.js';
import type { BaselineFigures, MetricInput, TargetCheck } from './result.js';

export interface BenchSizes {
  readonly baselineMessages: number;
  readonly baselineRuns: number;
  readonly convergeNodes: number;
  readonly convergeRuns: number;
  readonly reactNodes: number;
  readonly reactSamples: number;
  readonly rolloutNodes: number;
  readonly rolloutRuns: number;
  readonly replayEvents: number;
  readonly replayNodes: number;
  readonly replayDaemonSets: number;
  readonly replayRuns: number;
  readonly steadyNodes: number;
  readonly steadyDaemonSets: number;
  readonly steadySeconds: number;
  readonly cliNodes: number;
  readonly cliRuns: number;
  readonly handoverNodes: number;
  readonly handoverTrials: number;
  /** LEASE_TTL_MS of the handover controllers: handover cannot be faster than this. */
  readonly handoverLeaseTtlMs: number;
  readonly shardsNodes: number;
  readonly shardsDaemonSets: number;
  readonly shardsRuns: number;
  /** kill -9 trials of the shards scenario's 4-controller cluster (its handover p99). */
  readonly shardsKillTrials: number;
}

export const FULL_SIZES: BenchSizes = {
  baselineMessages: 100_000,
  baselineRuns: 3,
  convergeNodes: 10_000,
  convergeRuns: 3,
  reactNodes: 10_000,
  reactSamples: 20,
  rolloutNodes: 10_000,
  rolloutRuns: 3,
  replayEvents: 1_000_000,
  replayNodes: 10_000,
  replayDaemonSets: 5,
  replayRuns: 3,
  steadyNodes: 10_000,
  steadyDaemonSets: 10,
  steadySeconds: 20,
  cliNodes: 1_000,
  cliRuns: 10,
  handoverNodes: 2_000,
  handoverTrials: 10,
  handoverLeaseTtlMs: 5_000,
  // Three clusters (1, 2, 4 controllers), at the size issue #14 names: 10,000 nodes × 10 DaemonSets.
  shardsNodes: 10_000,
  shardsDaemonSets: 10,
  shardsRuns: 1,
  shardsKillTrials: 10,
};

/** Small sizes: the whole run in about 3 minutes on a 2-core machine. */
export const QUICK_SIZES: BenchSizes = {
  baselineMessages: 20_000,
  baselineRuns: 3,
  convergeNodes: 1_000,
  convergeRuns: 3,
  reactNodes: 1_000,
  reactSamples: 20,
  rolloutNodes: 1_000,
  rolloutRuns: 2,
  replayEvents: 200_000,
  replayNodes: 2_000,
  replayDaemonSets: 5,
  replayRuns: 3,
  steadyNodes: 1_000,
  steadyDaemonSets: 10,
  steadySeconds: 20,
  cliNodes: 1_000,
  cliRuns: 10,
  handoverNodes: 200,
  handoverTrials: 4,
  handoverLeaseTtlMs: 2_000,
  shardsNodes: 1_000,
  shardsDaemonSets: 8,
  shardsRuns: 2,
  shardsKillTrials: 3,
};

export interface ScenarioContext {
  readonly sizes: BenchSizes;
  /** `full`, `quick` or `custom` (sizes overridden on the command line). */
  readonly mode: string;
  readonly outDir: string;
  readonly progress: Progress;
  /** Profile the controller (node --cpu-prof) and summarise its hot functions. */
  readonly profile: boolean;
  readonly baseline: BaselineFigures;
  /** Extra controller environment (e.g. SNAPSHOT_EVERY_EVENTS=0), from --controller-env. */
  readonly controllerEnv: Readonly<Record<string, string>>;
  /** A controller entry to run instead of the built one (--controller-entry). */
  readonly controllerEntry?: string;
}

/** What a scenario hands back; the runner adds machine, versions and the baseline. */
export interface ScenarioOutcome {
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly metrics: readonly MetricInput[];
  readonly notes: readonly string[];
  readonly serverVersion: string;
  /** The goals, each judged met, missed or unknown (printed under the table). */
  readonly targets?: readonly TargetCheck[];
}

