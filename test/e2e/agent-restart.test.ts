// An agent restart with real processes (issue 19, finding 4): a kill -9 of the agent leaves its
// containers running and the next agent adopts them (same pid, restart count kept, no readiness
// gap), as a kubelet restart leaves containers running; a container that died while no agent ran
// is started again and the restart is reported (PodNotReady for the gap, restartCount + 1).
// Also finding 3's end: the container sees its node through `fieldRef: spec.nodeName`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LogEvent } from '../../libs/events/types.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { POD_REPORT_ALL_FILTER } from '../../libs/topology/names.js';
import { eventually } from '../support/eventually.js';
import { startNats, type TestNats } from '../support/nats-server.js';
import { processesWithMarker } from '../support/pod-processes.js';
import { runCli, spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

interface PodView {
  readonly metadata: { readonly name: string };
  readonly status: { readonly phase: string; readonly containerStatuses: readonly { readonly ready: boolean; readonly restartCount: number }[] };
}

describe('agent restart with the process driver', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dataDir: string;
  let env: Record<string, string>;
  let controller: ServiceProcess;
  let agent: ServiceProcess;
  const marker = `restart-e2e-${randomBytes(4).toString('hex')}`;
  const node = 'node-r';

  const startAgent = async (): Promise<ServiceProcess> => {
    agent = spawnService(node, 'dist/services/agent/main.js', { ...env, NODE_NAME: node, DATA_DIR: join(dataDir, node), DRIVER: 'process' });
    await agent.waitForLog((l) => l.json?.['phase'] === 'live', { message: 'the agent live' });
    return agent;
  };

  /** The pod as `dsctl get pods -o json` shows it. */
  const thePod = async (): Promise<PodView> => {
    const r = await runCli(['get', 'pods', '-o', 'json'], env);
    const items = (JSON.parse(r.stdout) as { items: PodView[] }).items;
    assert.equal(items.length, 1, r.stdout);
    return items[0]!;
  };

  /** Every pod report on the log so far, in order, as `type restartCount|reason`. */
  const reports = async (): Promise<string[]> => {
    const seen: string[] = [];
    const describe = (e: LogEvent): string | undefined => {
      switch (e.type) {
        case 'PodStarted':
          return `PodStarted ${e.data.restartCount}`;
        case 'PodNotReady':
          return `PodNotReady ${e.data.reason}`;
        case 'PodReady':
        case 'PodFailed':
        case 'PodDeleted':
          return e.type;
        default:
          return undefined;
      }
    };
    const reader = await openLogReader({ nc, filter: POD_REPORT_ALL_FILTER, onEnvelope: (env) => {
      const line = describe(env.event);
      if (line !== undefined) seen.push(line);
    } });
    await reader.caughtUp;
    await reader.stop();
    return seen;
  };

  before(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
    dataDir = await tempDir('restart-e2e-');
    env = { NATS_URL: nats.url };
    controller = spawnService('controller', 'dist/services/controller/main.js', { ...env, CONTROLLER_ID: 'c-restart' });
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    await startAgent();
  });

  after(async () => {
    for (const p of [agent, controller]) await p.stop('SIGTERM').catch(() => undefined);
    for (const pid of processesWithMarker(marker)) process.kill(pid, 'SIGKILL');
    await nc.close();
    await nats.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a kill -9 of the agent leaves the container running: adopted three times in a row, restartCount kept, no readiness gap', async () => {
    // One process that writes a line every 100 ms: with its output on a pipe to the dead agent, it
    // would die of SIGPIPE at its next write.
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'ticker', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'ticker' } },
        template: {
          metadata: { labels: { app: 'ticker' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'main',
                image: 'node',
                command: [process.execPath, '-e', 'setInterval(() => console.log("tick", process.env.MY_NODE), 100)'],
                env: [
                  { name: 'E2E_MARKER', value: marker },
                  { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                ],
              },
            ],
          },
        },
      },
    });
    const r = await runCli(['apply', '-f', '-'], env, manifest);
    assert.equal(r.stdout, 'daemonset.apps/ticker created\n', r.stderr);
    await eventually(async () => {
      const pod = await thePod();
      assert.equal(pod.status.containerStatuses[0]?.ready, true);
      assert.equal(processesWithMarker(marker).length, 1);
    }, { timeoutMs: 20_000 });
    const [pid] = processesWithMarker(marker);
    assert.ok(pid !== undefined);
    // Finding 3: node daemons learn their node from spec.nodeName.
    assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`MY_NODE=${node}`), 'MY_NODE is the node the pod is bound to');
    const before = await reports();
    assert.deepEqual(before, ['PodStarted 0', 'PodReady']);

    for (let kill = 1; kill <= 3; kill++) {
      await agent.kill9();
      assert.deepEqual(processesWithMarker(marker), [pid], `kill ${kill}: the container outlives the agent`);
      await startAgent();
      await eventually(async () => {
        const pod = await thePod();
        assert.equal(pod.status.phase, 'Running');
        assert.equal(pod.status.containerStatuses[0]?.ready, true);
        assert.equal(pod.status.containerStatuses[0]?.restartCount, 0, `kill ${kill}: restartCount`);
      });
      assert.deepEqual(processesWithMarker(marker), [pid], `kill ${kill}: the same process runs, adopted`);
      // The adopted container's output still reaches the new agent's log.
      await agent.waitForLog((l) => l.json?.['msg'] === 'container output' && l.json['line'] === `tick ${node}`, { message: `kill ${kill}: output of the adopted container` });
    }
    // No readiness gap was reported, and no new run: the new agents only stated again what ran.
    await eventually(async () =>
      assert.deepEqual((await reports()).slice(before.length), ['PodStarted 0', 'PodReady', 'PodStarted 0', 'PodReady', 'PodStarted 0', 'PodReady']),
    );
  });

  it('a container that died while the agent was down is started again: restartCount 1, PodNotReady for the gap', async () => {
    const [pid] = processesWithMarker(marker);
    assert.ok(pid !== undefined);
    const before = await reports();
    await agent.kill9();
    process.kill(pid, 'SIGKILL');
    await eventually(() => assert.deepEqual(processesWithMarker(marker), []));

    await startAgent();
    await eventually(async () => {
      const pod = await thePod();
      assert.equal(pod.status.containerStatuses[0]?.restartCount, 1);
      assert.equal(pod.status.containerStatuses[0]?.ready, true);
      assert.equal(processesWithMarker(marker).length, 1);
    });
    assert.notDeepEqual(processesWithMarker(marker), [pid]);
    await eventually(async () => assert.deepEqual((await reports()).slice(before.length), ['PodNotReady ContainerStatusUnknown', 'PodStarted 1', 'PodReady']));
  });
});
