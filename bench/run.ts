// The benchmark runner: measures the baseline (raw JetStream) first, then runs each scenario on
// its own throwaway nats-server, writes bench/results/<scenario>.json and prints the tables.

import type { BenchOptions } from './args.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { machineInfo } from './machine.js';
import { createProgress, type Progress } from './progress.js';
import { formatResult, formatTable, formatTargets, metric, TABLE_HEADERS, tableRows, writeResult, type ScenarioName, type ScenarioResult } from './result.js';
import { measureBaseline } from './scenario-baseline.js';
import { runCli } from './scenario-cli.js';
import { runConverge } from './scenario-converge.js';
import { runHandover } from './scenario-handover.js';
import { runReact } from './scenario-react.js';
import { runReplay } from './scenario-replay.js';
import { runRollout } from './scenario-rollout.js';
import { runShards } from './scenario-shards.js';
import { runSteady } from './scenario-steady.js';

type Runner = (ctx: ScenarioContext) => Promise<ScenarioOutcome>;

const RUNNERS: Readonly<Record<Exclude<ScenarioName, 'baseline'>, Runner>> = {
  converge: runConverge,
  react: runReact,
  rollout: runRollout,
  replay: runReplay,
  steady: runSteady,
  cli: runCli,
  handover: runHandover,
  shards: runShards,
};

export interface BenchRun {
  readonly results: readonly ScenarioResult[];
  readonly files: readonly string[];
}

export async function runBench(opts: BenchOptions, out: (text: string) => void = (t) => process.stdout.write(`${t}\n`), progress: Progress = createProgress()): Promise<BenchRun> {
  const machine = machineInfo();
  const node = process.version;
  progress.say(`bench (${opts.mode}): ${opts.scenarios.join(', ')} on ${machine.cpus} × ${machine.cpuModel}, ${Math.round(machine.memoryBytes / 2 ** 30)} GiB, node ${node}`);
  const results: ScenarioResult[] = [];
  const files: string[] = [];

  const baselineStarted = Date.now();
  progress.say(`baseline: ${opts.sizes.baselineRuns} × ${opts.sizes.baselineMessages} messages`);
  const base = await measureBaseline(opts.sizes, progress);
  const record = async (scenario: ScenarioName, started: number, outcome: ScenarioOutcome): Promise<void> => {
    const result: ScenarioResult = {
      scenario,
      mode: opts.mode,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      machine,
      versions: { node, natsServer: outcome.serverVersion },
      parameters: {
        ...outcome.parameters,
        ...(Object.keys(opts.controllerEnv).length ? { controllerEnv: opts.controllerEnv } : {}),
        ...(opts.controllerEntry ? { controllerEntry: opts.controllerEntry } : {}),
      },
      metrics: outcome.metrics.map((m) => metric(m, base.figures)),
      baseline: base.figures,
      notes: outcome.notes,
      ...(outcome.targets ? { targets: outcome.targets } : {}),
    };
    results.push(result);
    files.push(await writeResult(opts.outDir, result));
    out(`\n${scenario} (${(result.durationMs / 1000).toFixed(1)} s)\n${formatResult(result)}`);
    if (result.targets?.length) out(`targets\n${formatTargets(result.targets)}`);
    for (const note of result.notes) out(`  note: ${note}`);
  };
  if (opts.scenarios.includes('baseline')) {
    await record('baseline', baselineStarted, {
      serverVersion: base.serverVersion,
      parameters: base.parameters,
      metrics: [
        { name: 'publish, 1024 in flight', unit: 'msg/s', samples: base.figures.publish.samples, ofBaseline: 'publish' },
        { name: 'ordered-consumer read', unit: 'msg/s', samples: base.figures.read.samples, ofBaseline: 'read' },
      ],
      notes: [],
    });
  }
  const ctx: ScenarioContext = {
    sizes: opts.sizes,
    mode: opts.mode,
    outDir: opts.outDir,
    progress,
    profile: opts.profile,
    baseline: base.figures,
    controllerEnv: opts.controllerEnv,
    ...(opts.controllerEntry ? { controllerEntry: opts.controllerEntry } : {}),
  };
  for (const scenario of opts.scenarios) {
    if (scenario === 'baseline') continue;
    progress.say(`${scenario}:`);
    const started = Date.now();
    await record(scenario, started, await RUNNERS[scenario](ctx));
  }
  out(`\nsummary (${opts.mode})\n${formatTable(TABLE_HEADERS, results.flatMap(tableRows))}`);
  for (const r of results) if (r.targets?.length) out(`${r.scenario} targets\n${formatTargets(r.targets)}`);
  out(`\nresults: ${files.join(', ')}`);
  return { results, files };
}
