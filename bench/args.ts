// Command line of `npm run bench`: which scenarios, at which sizes, written where.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL_SIZES, QUICK_SIZES, type BenchSizes } from './context.js';
import { SCENARIOS, type ScenarioName } from './result.js';

export interface BenchOptions {
  readonly scenarios: readonly ScenarioName[];
  readonly sizes: BenchSizes;
  readonly mode: string;
  readonly outDir: string;
  readonly profile: boolean;
  readonly controllerEnv: Readonly<Record<string, string>>;
  readonly controllerEntry?: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm run bench -- [--quick] [--scenario NAME[,NAME…]]… [--nodes N] [--runs N]
                          [--baseline-messages N] [--out DIR] [--profile]
                          [--controller-env KEY=VALUE]… [--controller-entry FILE]

  --quick               small sizes (the whole run in about 3 minutes on 2 cores)
  --scenario NAME       run only these: ${SCENARIOS.join(', ')} (the baseline is always measured first)
  --nodes N             node count of converge, react, rollout, steady, cli, handover and shards
  --runs N              runs of converge, rollout, replay, shards and baseline; kill -9 trials of
                        handover and shards
  --baseline-messages N messages per baseline run
  --out DIR             where <scenario>.json goes (default bench/results)
  --profile             profile the controller and the fleet (V8 CPU profiles in <out>/profiles/)
                        and list their hottest functions
  --controller-env K=V  extra environment of the controller (e.g. SNAPSHOT_EVERY_EVENTS=0)
  --controller-entry F  run this controller entry instead of dist/services/controller/main.js
                        (to measure a proposed change on a copy of the tree)`;

/** Names given as repeated flags and/or comma lists (`--x a,b --x c`), trimmed, empty ones dropped. */
export function commaList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected a whole number ≥ 1`);
  return n;
}

export function parseBenchArgs(argv: readonly string[], defaultOutDir: string): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        scenario: { type: 'string', multiple: true },
        nodes: { type: 'string' },
        runs: { type: 'string' },
        'baseline-messages': { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'controller-env': { type: 'string', multiple: true },
        'controller-entry': { type: 'string' },
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
  const names = commaList(v.scenario);
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new UsageError(`unknown scenario ${JSON.stringify(name)}: expected one of ${SCENARIOS.join(', ')}`);
  }
  const scenarios = names.length ? SCENARIOS.filter((s) => names.includes(s)) : SCENARIOS;
  const nodes = positiveInt('nodes', v.nodes);
  const runs = positiveInt('runs', v.runs);
  const baselineMessages = positiveInt('baseline-messages', v['baseline-messages']);
  const base = v.quick ? QUICK_SIZES : FULL_SIZES;
  const custom =
    nodes !== undefined || runs !== undefined || baselineMessages !== undefined || (v['controller-env'] ?? []).length > 0 || v['controller-entry'] !== undefined;
  const sizes: BenchSizes = {
    ...base,
    ...(nodes !== undefined
      ? { convergeNodes: nodes, reactNodes: nodes, rolloutNodes: nodes, steadyNodes: nodes, cliNodes: nodes, replayNodes: nodes, handoverNodes: nodes, shardsNodes: nodes }
      : {}),
    ...(runs !== undefined ? { convergeRuns: runs, rolloutRuns: runs, replayRuns: runs, baselineRuns: runs, handoverTrials: runs, shardsRuns: runs, shardsKillTrials: runs } : {}),
    ...(baselineMessages !== undefined ? { baselineMessages } : {}),
  };
  const controllerEnv: Record<string, string> = {};
  for (const kv of v['controller-env'] ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--controller-env ${JSON.stringify(kv)}: expected KEY=VALUE`);
    controllerEnv[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const controllerEntry = v['controller-entry'];
  return {
    scenarios,
    sizes,
    controllerEnv,
    ...(controllerEntry ? { controllerEntry: resolve(controllerEntry) } : {}),
    mode: `${v.quick ? 'quick' : 'full'}${custom ? '+custom' : ''}`,
    outDir: v.out ?? defaultOutDir,
    profile: v.profile ?? false,
  };
}
