// cli: wall time of `node bin/dsctl.js get ds -A` (process start, connect, fold the whole log,
// print) against a log holding a converged fleet, run one after the other.

import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../test/support/processes.js';
import { applyDaemonSet, startScenarioCluster, waitConverged } from './cluster.js';
import type { ScenarioContext, ScenarioOutcome } from './context.js';
import { LOG_STREAM } from '../libs/topology/names.js';

function runDsctl(args: readonly string[]): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [resolve(REPO_ROOT, 'bin/dsctl.js'), ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`dsctl ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolvePromise({ ms: performance.now() - started, stdout });
    });
  });
}

export async function runCli(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const n = ctx.sizes.cliNodes;
  const { cluster } = await startScenarioCluster(ctx, 'cli');
  const wallMs: number[] = [];
  let logMessages = 0;
  const notes: string[] = [];
  try {
    await cluster.startFleet({ nodes: n, simStartDelayMs: 0, simReadyDelayMs: 0 });
    const ds = await applyDaemonSet(cluster, 'cli', 'registry.local/logship:v1');
    await waitConverged(cluster, ds, n, { timeoutMs: 120_000 + n * 20, progress: ctx.progress });
    await cluster.waitFoldedUp();
    logMessages = (await cluster.jsm.streams.info(LOG_STREAM)).state.messages;
    for (let run = 1; run <= ctx.sizes.cliRuns; run++) {
      const r = await runDsctl(['get', 'ds', '-A', '--server', cluster.nats.url]);
      const row = r.stdout.split('\n').find((l) => /\bcli\b/.test(l));
      if (!row || !row.includes(String(n))) throw new Error(`dsctl get ds -A did not show ${n} pods of DaemonSet cli:\n${r.stdout}`);
      wallMs.push(r.ms);
      ctx.progress.tick('cli', () => `${run}/${ctx.sizes.cliRuns}: ${r.ms.toFixed(0)} ms`);
      if (run === 1) notes.push(`output of the first run:\n${r.stdout.trimEnd()}`);
    }
  } finally {
    await cluster.stop();
  }
  return {
    serverVersion: cluster.serverVersion,
    parameters: {
      nodes: n,
      daemonSets: 1,
      runs: ctx.sizes.cliRuns,
      logMessages,
      command: 'node bin/dsctl.js get ds -A --server <url>',
      note: 'the fleet and controller stay up (idle) while the CLI runs',
    },
    metrics: [{ name: 'dsctl get ds -A wall time', unit: 'ms', samples: wallMs }],
    notes,
  };
}
