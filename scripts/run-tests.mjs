#!/usr/bin/env node
// Runs the compiled test suite group by group: dist/test/{unit,integration,e2e,browser}/**/*.test.js.
// Usage: node scripts/run-tests.mjs [unit|integration|e2e|browser]
// Each group is one `node --test` run with the spec reporter on stdout and a TAP copy in a temp
// file, whose `# pass` / `# fail` lines are summed into a closing "N passed, N failed" line.
// Groups that start servers run one file at a time, and only one group runs at a time, so a
// 2-core machine never has two sets of servers competing.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GROUPS = [
  { name: 'unit', serial: false },
  { name: 'integration', serial: true },
  { name: 'e2e', serial: true },
  { name: 'browser', serial: true },
];
/** Per-test limit for the slow groups, so one hung test cannot eat a whole CI run. */
const SLOW_TEST_TIMEOUT_MS = 300_000;

function supportsTestConcurrency(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > 20 || (major === 20 && minor >= 10);
}

async function testFiles(dir) {
  const found = [];
  const walk = async (current) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(full);
    }
  };
  await walk(dir);
  return found.sort();
}

/** A compiled test whose .ts source was deleted is stale output in dist/: leave it out. */
function hasSource(compiled) {
  const source = join(ROOT, relative(join(ROOT, 'dist'), compiled)).replace(/\.js$/, '.ts');
  return existsSync(source);
}

function parseTap(text) {
  // The top-level summary comes last; nested subtests never print these lines.
  const count = (key) => {
    const matches = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
    return matches.length === 0 ? 0 : Number(matches[matches.length - 1][1]);
  };
  return {
    found: /^# pass \d+$/m.test(text),
    pass: count('pass'),
    fail: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
  };
}

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

async function runGroup(group, tapDir) {
  const dir = join(ROOT, 'dist', 'test', group.name);
  if (!existsSync(dir)) {
    console.log(`\n== ${group.name}: no dist/test/${group.name} folder, skipped`);
    return undefined;
  }
  const all = await testFiles(dir);
  const files = all.filter(hasSource);
  for (const stale of all.filter((file) => !files.includes(file))) {
    console.log(`(ignoring ${relative(ROOT, stale)}: its source file no longer exists)`);
  }
  if (files.length === 0) {
    console.log(`\n== ${group.name}: no test files, skipped`);
    return undefined;
  }
  console.log(`\n== ${group.name}: ${files.length} file(s)`);
  const tapFile = join(tapDir, `${group.name}.tap`);
  const args = [
    '--enable-source-maps',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
  ];
  if (group.serial) {
    if (supportsTestConcurrency(process.version)) args.push('--test-concurrency=1');
    args.push(`--test-timeout=${SLOW_TEST_TIMEOUT_MS}`);
  }
  const code = await run([...args, ...files.map((file) => relative(ROOT, file))]);
  const tap = existsSync(tapFile) ? await readFile(tapFile, 'utf8') : '';
  const counts = parseTap(tap);
  if (code !== 0 && counts.fail === 0) {
    console.log(`== ${group.name}: the test runner exited with code ${code} without a failing test; counted as one failure`);
    return { pass: counts.pass, fail: 1, skipped: counts.skipped };
  }
  if (!counts.found) console.log(`== ${group.name}: no TAP summary found`);
  return counts;
}

async function main() {
  const filter = process.argv[2];
  const known = GROUPS.map((group) => group.name);
  if (filter !== undefined && !known.includes(filter)) {
    console.error(`run-tests: unknown group '${filter}'; expected one of ${known.join(', ')}`);
    process.exit(2);
  }
  const selected = GROUPS.filter((group) => filter === undefined || group.name === filter);
  const tapDir = await mkdtemp(join(tmpdir(), 'run-tests-'));
  const total = { pass: 0, fail: 0, skipped: 0 };
  try {
    for (const group of selected) {
      const counts = await runGroup(group, tapDir);
      if (counts === undefined) continue;
      total.pass += counts.pass;
      total.fail += counts.fail;
      total.skipped += counts.skipped;
      console.log(`== ${group.name}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped`);
    }
  } finally {
    await rm(tapDir, { recursive: true, force: true });
  }
  console.log(`\n${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped`);
  process.exitCode = total.fail > 0 ? 1 : 0;
}

await main();
