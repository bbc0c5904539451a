// Real pods: agents with the process driver run a DaemonSet's container command as real child
// processes. One process per node, adopted (neither doubled nor restarted) by the agent that
// starts after a kill -9 of the last, and gone after the DaemonSet is deleted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { processesWithMarker } from '../support/pod-processes.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const processesWith = processesWithMarker;

describe('process driver end to end', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  let nats: TestNats;
  let dataDir: string;
  let env: Record<string, string>;
  const marker = `ds-e2e-${randomBytes(4).toString('hex')}`;
  const agents = new Map<string, ServiceProcess>();
  let controller: ServiceProcess;

  const startAgent = (node: string): ServiceProcess => {
    const p = spawnService(node, 'dist/services/agent/main.js', { ...env, NODE_NAME: node, DATA_DIR: join(dataDir, node), DRIVER: 'process' });
    agents.set(node, p);
    return p;
  };

  before(async () => {
    nats = await startNats();
    dataDir = await tempDir('process-e2e-');
    env = { NATS_URL: nats.url };
    controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'c-proc' });
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    for (const n of ['node-a', 'node-b']) startAgent(n);
    for (const n of ['node-a', 'node-b']) await agents.get(n)!.waitForLog((l) => l.json?.['phase'] === 'live');
  });

  after(async () => {
    for (const p of [...agents.values(), controller]) await p.stop('SIGTERM').catch(() => undefined);
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the container command once per node, survives an agent kill -9 without doubling, stops on delete', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'sleeper', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'sleeper' } },
        template: {
          metadata: { labels: { app: 'sleeper' } },
          spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '300'], env: [{ name: 'E2E_MARKER', value: marker }] }] },
        },
      },
    });
    const r = await runCli(['apply', '-f', '-'], env, manifest);
    assert.equal(r.stdout, 'daemonset.apps/sleeper created\n', r.stderr);
    await eventually(() => processesWith(marker).length === 2, { timeoutMs: 15_000, message: 'expected 2 sleeper processes' });
    await eventually(async () => {
      const ds = JSON.parse((await runCli(['get', 'ds', 'sleeper', '-o', 'json'], env)).stdout) as { status: { numberReady: number } };
      assert.equal(ds.status.numberReady, 2);
    });

    const before = processesWith(marker);
    await agents.get('node-a')!.kill9();
    // The orphaned child outlives the agent...
    assert.equal(processesWith(marker).length, 2);
    const again = startAgent('node-a');
    await again.waitForLog((l) => l.json?.['phase'] === 'live' && l.json?.['pods'] === 1);
    // ...and the restarted agent adopts it (test/e2e/agent-restart.test.ts has the details), neither
    // running a second copy nor restarting it.
    assert.deepEqual(processesWith(marker).sort(), [...before].sort(), 'both nodes\' processes are unchanged');

    const d = await runCli(['delete', 'ds', 'sleeper'], env);
    assert.equal(d.code, 0, d.stderr);
    await eventually(() => processesWith(marker).length === 0, { timeoutMs: 15_000, message: 'sleeper processes outlived their DaemonSet' });
  });
});
