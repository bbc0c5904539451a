// Regression: a controller whose lease renewal lapses (a pause, a busy event loop under a
// 10,000-node converge) self-fences; work that arrives meanwhile must be deferred, not dropped.
// The benchmark found a DaemonSet whose pods all existed but whose status stayed at its first
// pass forever, because its last wake-up came while the lease was lapsed.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const manifest = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: late, namespace: default }
spec:
  selector: { matchLabels: { app: late } }
  template:
    metadata: { labels: { app: late } }
    spec: { containers: [ { name: c, image: img } ] }
`;

describe('a controller whose lease lapsed', () => {
  let nats: TestNats;
  let dir: string;
  let env: Record<string, string>;
  const procs: ServiceProcess[] = [];

  before(async () => {
    nats = await startNats();
    dir = await tempDir('lease-lapse-');
    env = { NATS_URL: nats.url };
    const controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'solo', SLOTS: '4', LEASE_TTL_MS: '1500', NODE_GRACE_MS: '60000' });
    procs.push(controller);
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const node of ['n1', 'n2']) {
      const a = spawnService(node, 'dist/services/agent/main.js', { ...env, NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', SIM_START_DELAY_MS: '1', SIM_READY_DELAY_MS: '1' });
      procs.push(a);
      await a.waitForLog((l) => l.json?.['phase'] === 'live');
    }
  });

  after(async () => {
    for (const p of procs) {
      try {
        process.kill(p.pid, 'SIGCONT');
      } catch {
        // gone
      }
      await p.stop('SIGTERM').catch(() => undefined);
    }
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('acts on what arrived while its lease was lapsed, once the lease is renewed', async () => {
    const controller = procs[0]!;
    process.kill(controller.pid, 'SIGSTOP');
    try {
      // Past 80% of the TTL (self-fenced), and the DaemonSet arrives meanwhile.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await runCli(['apply', '-f', '-'], env, manifest)).code, 0);
    } finally {
      process.kill(controller.pid, 'SIGCONT');
    }
    await eventually(async () => {
      const ds = JSON.parse((await runCli(['get', 'ds', 'late', '-o', 'json'], env)).stdout) as { status: { numberReady: number } };
      assert.equal(ds.status.numberReady, 2);
    }, { timeoutMs: 10_000, message: 'the DaemonSet applied during the lapse was never acted on' });
  });
});
