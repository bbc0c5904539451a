// `npm run bench [-- --quick] [--scenario NAME]…`: see args.ts for the options.

import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE, UsageError } from './args.js';
import { runBench } from './run.js';

/** bench/results in the repository (this file runs from dist/bench/). */
const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseBenchArgs(process.argv.slice(2), DEFAULT_OUT_DIR);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (process.env['NATS_URL']) {
    // Every scenario needs a server of its own (fresh store, nothing else writing).
    process.stderr.write(`note: NATS_URL is ignored: each scenario starts its own nats-server\n`);
    delete process.env['NATS_URL'];
  }
  await runBench(opts);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
