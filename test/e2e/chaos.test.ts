// `npm run chaos -- --quick` end to end, as CI runs it: the real fault suite (dist/chaos/main.js)
// starts a local cluster per fault, injects each fault mid-rollout, and must print its table and
// write its JSON with a row per fault; and every rollout must complete, no node be judged NotReady,
// and the audit find no break.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { natsServerBinary } from '../support/nats-server.js';
import { REPO_ROOT, runCli } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const FAULTS = ['none', 'nats-kill', 'nats-stop', 'controller-kill', 'controller-stop', 'agent-kill'];
/** The quick suite takes about 75 s on 2 idle cores; past this it is asked to stop (SIGTERM tears its cluster down). */
const RUN_BOUND_MS = 240_000;
const STOP_GRACE_MS = 60_000;

interface RepetitionJson {
  rep: number;
  outcome: string;
  reason?: string;
  recoveryMs?: number;
  midRollout?: boolean;
  audit: { status: string; breaks?: { kind: string; node?: string; message?: string }[]; reason?: string };
  falseNotReady?: { node: string; seq: number; message: string }[];
  notableLogs: { child: string; level: string; msg: string; count: number }[];
  unplannedExits: string[];
  setupRetries: { reason: string; logFile: string }[];
  logFile?: string;
}

interface FaultJson {
  fault: string;
  reps: number;
  completed: number;
  stalled: number;
  errors: number;
  auditBreaks: number | null;
  falseNotReady: number | null;
  metrics: { name: string; unit: string; samples: number[] }[];
  repetitions: RepetitionJson[];
}

interface ResultJson {
  suite: string;
  mode: string;
  passed: boolean;
  faults: FaultJson[];
}

interface SuiteRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the suite to its end, bounded: SIGTERM at the bound (it tears its cluster down), SIGKILL after a grace. */
async function runSuite(args: readonly string[]): Promise<SuiteRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  delete env['NATS_URL'];
  const child = spawn(process.execPath, ['--enable-source-maps', join(REPO_ROOT, 'dist', 'chaos', 'main.js'), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolveExit) => child.once('close', (code) => resolveExit(code)));
  let kill: NodeJS.Timeout | undefined;
  const term = setTimeout(() => {
    child.kill('SIGTERM');
    kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  }, RUN_BOUND_MS);
  const code = await exited;
  clearTimeout(term);
  if (kill !== undefined) clearTimeout(kill);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** What a failed repetition says about itself, for the assertion message. */
function diagnosis(fault: FaultJson): string {
  return fault.repetitions
    .map((r) => {
      const logs = r.notableLogs.slice(0, 8).map((l) => `      ${l.child} ${l.level} ×${l.count}: ${l.msg}`).join('\n');
      const exits = [
        ...r.setupRetries.map((t) => `      setup thrown away: ${t.reason}`),
        ...r.unplannedExits.map((e) => `      unplanned exit: ${e}`),
      ];
      const breaks = [
        ...exits,
        ...(r.audit.breaks ?? []).slice(0, 8).map((b) => `      ${b.kind} ${b.node ?? ''}: ${b.message ?? ''}`),
        ...(r.falseNotReady ?? []).slice(0, 8).map((v) => `      NodeNotReady at seq ${v.seq}: ${v.message}`),
      ].join('\n');
      return `  ${fault.fault} ${r.rep}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}, audit ${r.audit.status}${r.logFile ? `, log ${r.logFile}` : ''}\n${breaks}${breaks && logs ? '\n' : ''}${logs}`;
    })
    .join('\n');
}

const folders: string[] = [];
after(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

const notBuilt = existsSync(join(REPO_ROOT, 'dist', 'chaos', 'main.js')) ? false : 'dist/chaos/main.js is not built (npm run build)';
const noServer = natsServerBinary() === undefined ? 'nats-server is not installed (bash scripts/setup.sh)' : false;
const notLinux = process.platform !== 'linux' ? 'the suite finds leftover processes in /proc' : false;
const skip = notBuilt || noServer || notLinux;
if (skip !== false) console.log(`skipping the fault suite: ${skip}`);

describe('npm run chaos -- --quick', { skip }, () => {
  it('injects every fault once mid-rollout: a table and a JSON row per fault; every rollout completes, no node is judged NotReady, and the audit finds no break', { timeout: RUN_BOUND_MS + STOP_GRACE_MS + 30_000 }, async () => {
    const dir = await tempDir('chaos-e2e-');
    folders.push(dir);
    const jsonPath = join(dir, 'chaos.json');
    const run = await runSuite(['--quick', '--json', jsonPath]);
    const output = `${run.stdout}\n${run.stderr}`;

    // The table: a header, then one row per fault in the suite's order.
    const lines = run.stdout.split('\n');
    const header = lines.findIndex((l) => /^fault\s+reps\s+completed\s+stalled\s+errors\s+recovery p50\s+recovery max\s+audit breaks\s+false NotReady$/.test(l));
    assert.ok(header >= 0, `no table header in:\n${output}`);
    assert.deepEqual(lines.slice(header + 2, header + 2 + FAULTS.length).map((l) => l.split(/\s+/)[0]), FAULTS, output);

    // The JSON: a row per fault with its repetitions and stable metric names.
    assert.ok(existsSync(jsonPath), `no JSON at ${jsonPath}:\n${output}`);
    const result = JSON.parse(readFileSync(jsonPath, 'utf8')) as ResultJson;
    assert.equal(result.suite, 'chaos');
    assert.equal(result.mode, 'quick');
    assert.deepEqual(result.faults.map((f) => f.fault), FAULTS);
    for (const fault of result.faults) {
      assert.equal(fault.reps, 1, fault.fault);
      assert.equal(fault.repetitions.length, 1, fault.fault);
      assert.deepEqual(fault.metrics.map((m) => m.name), ['recovery', 'recovery-after-heal', 'outage', 'rollout'], fault.fault);
    }

    // The point of the suite: every rollout completed despite its fault...
    const failed = result.faults.filter((f) => f.completed !== f.reps);
    assert.deepEqual(failed.map((f) => f.fault), [], `repetitions that stalled or could not run:\n${failed.map(diagnosis).join('\n')}\n${output}`);
    for (const fault of result.faults) assert.ok(fault.repetitions.every((r) => r.midRollout === true), `${fault.fault}: the fault did not come mid-rollout\n${output}`);

    // ...no controller took its own blindness (or a restart) for nodes dying: no agent is ever
    // down longer than the node grace, so any NodeNotReady verdict is a false one...
    const judged = result.faults.filter((f) => f.falseNotReady !== 0);
    assert.deepEqual(judged.map((f) => f.fault), [], `false NodeNotReady verdicts (or unreadable events):\n${judged.map(diagnosis).join('\n')}\n${output}`);

    // ...and the audit found no break in the log. Until `dsctl audit` is built, breaks cannot be counted.
    const auditBuilt = /^\s+audit\b/m.test((await runCli(['--help'], {})).stdout);
    if (!auditBuilt) {
      console.log('dsctl has no audit command in this build: the audit breaks are not asserted');
      for (const fault of result.faults) assert.ok(fault.repetitions.every((r) => r.audit.status === 'unavailable'), diagnosis(fault));
    } else {
      const broken = result.faults.filter((f) => f.auditBreaks !== 0 || f.repetitions.some((r) => r.audit.status !== 'clean'));
      assert.deepEqual(broken.map((f) => f.fault), [], `audit breaks:\n${broken.map(diagnosis).join('\n')}\n${output}`);
    }
    assert.equal(result.passed, true, output);
    assert.equal(run.code, 0, output);
    assert.match(run.stdout, /^PASSED/m);
  });
});
