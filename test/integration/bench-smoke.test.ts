// The benchmark entry point `npm run bench` runs (dist/bench/main.js), on one scenario at a tiny
// size: it must finish and write <scenario>.json with the machine, the versions, the parameters,
// raw samples with median and p99, and the same run's baseline beside every figure. No speed is
// asserted here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ScenarioResult } from '../../bench/result.js';
import { REPO_ROOT } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const NODES = 20;

describe('bench smoke: converge with 20 nodes through dist/bench/main.js', () => {
  let outDir: string;
  let result: ScenarioResult;
  let output: string;

  before(async () => {
    outDir = await tempDir('bench-smoke-');
    const args = ['--scenario', 'converge', '--nodes', String(NODES), '--runs', '2', '--baseline-messages', '1000', '--out', outDir];
    const env = { ...process.env };
    // The bench starts its own servers; the test runner's markers must not leak into it.
    delete env['NATS_URL'];
    delete env['NODE_TEST_CONTEXT'];
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/bench/main.js'), ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => chunks.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    clearTimeout(timer);
    output = chunks.join('');
    assert.equal(code, 0, `bench exited ${code}:\n${output}`);
    result = JSON.parse(await readFile(join(outDir, 'converge.json'), 'utf8')) as ScenarioResult;
  });

  after(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('writes only the scenario it was asked for', async () => {
    assert.deepEqual(await readdir(outDir), ['converge.json']);
  });

  it('records the machine, the versions and the parameters', () => {
    assert.equal(result.scenario, 'converge');
    assert.equal(result.mode, 'full+custom');
    assert.ok(Number.isInteger(result.machine.cpus) && result.machine.cpus > 0);
    assert.equal(typeof result.machine.cpuModel, 'string');
    assert.ok(result.machine.memoryBytes > 0);
    assert.equal(result.versions.node, process.version);
    assert.match(result.versions.natsServer, /^\d+\.\d+\.\d+/);
    assert.equal(result.parameters['nodes'], NODES);
    assert.equal(result.parameters['runs'], 2);
  });

  it('gives every metric its raw samples, median, p99 and the same run’s baseline', () => {
    assert.deepEqual(
      result.metrics.map((m) => m.name),
      ['converge time', 'pods placed and ready', 'log messages per pod', 'log write rate during converge', 'write rate ÷ baseline publish'],
    );
    for (const m of result.metrics) {
      assert.equal(m.samples.length, 2, `${m.name}: one sample per run`);
      assert.ok(m.samples.every((s) => Number.isFinite(s) && s > 0), `${m.name}: ${JSON.stringify(m.samples)}`);
      assert.equal(m.median, (m.samples[0]! + m.samples[1]!) / 2);
      assert.equal(m.p99, Math.max(...m.samples));
      assert.deepEqual(m.baseline, { publishPerSec: result.baseline.publish.median, readPerSec: result.baseline.read.median });
    }
    assert.equal(result.baseline.messagesPerRun, 1000);
    assert.equal(result.baseline.publish.samples.length, 2);
    assert.equal(result.baseline.read.samples.length, 2);
    assert.ok(result.baseline.payloadBytes['PodCreate']! > result.baseline.payloadBytes['PodReady']!);
    const perPod = result.metrics.find((m) => m.name === 'log messages per pod')!;
    assert.ok(perPod.median >= 3, 'at least PodCreate, PodStarted and PodReady per pod');
  });

  it('prints the table', () => {
    assert.match(output, /converge time/);
    assert.match(output, /baseline pub\/s/);
  });
});
