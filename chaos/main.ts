// `npm run chaos [-- --quick] [--faults NAME,…] [--reps N] …`: see args.ts for the options.
// Progress goes to stderr, the table to stdout; the JSON to chaos/results (or --json PATH).

import { copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseChaosArgs, USAGE, UsageError } from './args.js';
import { formatResult, writeJson, type ChaosResult, type FaultSummary } from './result.js';
import { runChaos } from './run.js';

/** chaos/results in the repository (this file runs from dist/chaos/). */
const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../chaos/results/', import.meta.url));

function stamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** The closing line: PASSED, or FAILED with what failed. */
function verdict(result: ChaosResult): string {
  if (result.passed) {
    const unaudited = result.faults.reduce((n, f) => n + f.auditUnavailable, 0);
    return `PASSED: every rollout completed, no node was judged NotReady${unaudited > 0 ? ` (${unaudited} repetitions not audited: no dsctl audit in this build)` : ', and the audit found no break'}`;
  }
  const sum = (pick: (f: FaultSummary) => number): number => result.faults.reduce((n, f) => n + pick(f), 0);
  const parts = [
    `${sum((f) => f.stalled)} stalled`,
    `${sum((f) => f.errors)} could not run`,
    `${sum((f) => f.auditBreaks ?? 0)} audit breaks`,
    `${sum((f) => f.auditErrors)} audits failed`,
    `${sum((f) => f.falseNotReady ?? 0)} false NotReady verdicts`,
  ];
  return `FAILED: ${parts.join(', ')}${result.notes.includes('interrupted: the run ended early') ? ', interrupted' : ''}`;
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseChaosArgs(process.argv.slice(2), process.cwd());
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.env['NATS_URL']) process.stderr.write('note: NATS_URL is ignored: every repetition starts its own cluster\n');

  // First signal: end the current repetition and tear its cluster down; second: leave at once
  // (the launcher, in our process group, stops its children itself on the same Ctrl-C).
  let aborted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (aborted) process.exit(130);
    aborted = true;
    process.stderr.write(`${sig}: ending the current repetition and stopping its cluster (again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date();
  const jsonPath = opts.jsonPath ?? join(DEFAULT_OUT_DIR, `chaos-${stamp(startedAt)}.json`);
  const logDir = join(dirname(jsonPath), 'logs', `chaos-${stamp(startedAt)}`);
  const result = await runChaos(opts, logDir, { say: (t) => process.stderr.write(`${t}\n`), aborted: () => aborted });
  await writeJson(jsonPath, result);
  if (opts.jsonPath === undefined) await copyFile(jsonPath, join(DEFAULT_OUT_DIR, 'latest.json'));

  process.stdout.write(`\n${formatResult(result)}\n\n`);
  for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`results: ${jsonPath}${opts.jsonPath === undefined ? ' (and latest.json)' : ''}\n`);
  process.stdout.write(`${verdict(result)}\n`);
  return result.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
