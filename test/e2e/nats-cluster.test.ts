// The services on a 3-server JetStream cluster (streams R3) while one server is killed with -9
// during a rolling update: the log loses nothing, the rollout finishes while the server is down
// (whether it led the log or not), and the restarted server catches up as a current replica.
//
// What it takes on nats-server 2.9.10 (measured here): a stream or the meta group whose leader
// died has none for about 5 s, so every writer retries through the election; a one-replica
// consumer may be placed on the dead peer and its create is then never answered (about one try
// in two), so readers re-create theirs with short timeouts; a client whose server died is moved
// to another one and its reader starts over from the next sequence; dsctl waits out an election
// (libs/nats/patient-requests.ts). After a failure (or with DEBUG_PROCS=1) the services' logs and
// the log's tail are printed.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { managerOf } from '../../libs/nats/subject-reads.js';
import type { StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent } from '../../libs/codec/codec.js';
import type { DaemonSetStatusUpdated, Envelope } from '../../libs/events/types.js';
import { DEFAULT_SLOTS, LOG_STREAM, dsStatusSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { eventually } from '../support/eventually.js';
import { readLog } from '../support/log.js';
import { startNatsCluster } from '../support/nats-cluster.js';
import type { TestNatsCluster } from '../support/nats-cluster.js';
import { natsServerBinary } from '../support/nats-server.js';
import { runCli, spawnService } from '../support/processes.js';
import type { ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const NODES = ['node-1', 'node-2', 'node-3'] as const;
const manifest = (image: string): string => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
  namespace: kube-system
spec:
  selector:
    matchLabels: { name: fluentd }
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 1 }
  template:
    metadata:
      labels: { name: fluentd }
    spec:
      containers:
      - name: fluentd
        image: ${image}
`;

interface DsJson {
  readonly metadata: { readonly generation: number };
  readonly status: {
    readonly desiredNumberScheduled: number;
    readonly currentNumberScheduled: number;
    readonly numberReady: number;
    readonly updatedNumberScheduled?: number;
    readonly numberAvailable?: number;
    readonly observedGeneration?: number;
  };
}
interface PodList {
  readonly items: readonly { readonly metadata: { readonly name: string }; readonly spec: { readonly nodeName: string; readonly containers: readonly { readonly image: string }[] } }[];
}

const noBinary = natsServerBinary() === undefined ? 'nats-server is not installed (bash scripts/setup.sh)' : false;
if (noBinary !== false) console.log(`skipped: ${noBinary}`);

describe('a 3-server NATS cluster (STREAM_REPLICAS=3)', { skip: noBinary }, () => {
  let cluster: TestNatsCluster;
  let admin: NatsConnection;
  let dataDir: string;
  let env: Record<string, string>;
  const procs: ServiceProcess[] = [];

  const getJson = async <T>(...args: string[]): Promise<T> => {
    const r = await runCli(['get', ...args, '-o', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const apply = async (image: string): Promise<string> => {
    const r = await runCli(['apply', '-f', '-'], env, manifest(image));
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  // managerOf skips the account info request, which only the meta leader answers.
  const logInfo = async (): Promise<StreamInfo> => (await managerOf(admin)).streams.info(LOG_STREAM);

  before(async () => {
    const startedAt = Date.now();
    cluster = await startNatsCluster(3);
    console.log(`# a 3-server nats cluster was up with a meta leader after ${Date.now() - startedAt} ms`);
    admin = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    dataDir = await tempDir('nats-cluster-e2e-');
    env = { NATS_URL: cluster.url, LOG_LEVEL: process.env['DEBUG_PROCS'] ? 'debug' : 'info' };
    const controller = spawnService('controller', 'dist/services/controller/main.js', {
      ...env,
      CONTROLLER_ID: 'controller-1',
      STREAM_REPLICAS: '3',
    });
    procs.push(controller);
    await controller.waitForLog((l) => l.json?.['msg'] === 'slots acquired');
    const agents = NODES.map((node) =>
      spawnService(node, 'dist/services/agent/main.js', {
        ...env,
        NODE_NAME: node,
        DATA_DIR: join(dataDir, node),
        DRIVER: 'sim',
        SIM_START_DELAY_MS: '20',
        SIM_READY_DELAY_MS: '50',
        HEARTBEAT_INTERVAL_MS: '500',
      }),
    );
    procs.push(...agents);
    for (const agent of agents) await agent.waitForLog((l) => l.json?.['phase'] === 'live');
  });

  /** Set when a test fails: the services' logs and the log's tail are printed after the file, for CI. */
  let failed = false;
  afterEach((t) => {
    // TestContext.passed (Node 20.12+) is not in the installed @types/node yet.
    if ((t as unknown as { readonly passed?: boolean }).passed === false) failed = true;
  });

  const printDiagnostics = async (): Promise<void> => {
    const wanted = /lifecycle|slot|consumer|publish|command|reconciled|lease|liveness|retry|connection|reconnect|disconnect/;
    for (const p of procs) for (const l of p.lines()) if (Number(l.json?.['level'] ?? 0) >= 40 || wanted.test(String(l.json?.['msg']))) console.log(`[${p.name}] ${l.text.slice(0, 4000)}`);
    const log = await readLog(cluster.url).catch(() => []);
    for (const env of log.slice(-40)) console.log(`log ${env.seq} ${new Date(env.timeMs).toISOString().slice(11, 23)} ${env.subject} ${env.event.type} ${JSON.stringify(env.event.data).slice(0, 160)}`);
  };

  after(async () => {
    if (process.env['DEBUG_PROCS'] || failed) await printDiagnostics();
    for (const p of procs) await p.stop('SIGTERM').catch(() => undefined);
    await admin?.close();
    await cluster?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('the controller made the log a 3-replica stream', async () => {
    const info = await logInfo();
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.cluster?.replicas?.length, 2, 'a leader and two more replicas');
  });

  /** The status the controller last wrote to the log for the DaemonSet, by a direct get any replica serves. */
  const lastStatus = async (): Promise<DaemonSetStatusUpdated['data']['status'] | undefined> => {
    const subject = dsStatusSubject(dsSlot('kube-system', 'fluentd', DEFAULT_SLOTS), 'kube-system', 'fluentd');
    const msg = await (await managerOf(admin)).direct.getMessage(LOG_STREAM, { last_by_subj: subject });
    if (msg === null) return undefined;
    const decoded = decodeEvent(msg.data);
    assert.ok(decoded.ok && decoded.event.type === 'DaemonSetStatusUpdated', `${subject} holds ${JSON.stringify(decoded)}`);
    return decoded.event.data.status;
  };

  /** Of the servers that do not lead DS_LOG, the one with the fewest clients (the log keeps its leader). */
  const aFollower = async (): Promise<number> => {
    const leader = (await logInfo()).cluster?.leader;
    const followers = cluster.names.map((name, i) => ({ name, i })).filter(({ name }) => name !== leader);
    const clients = await Promise.all(followers.map(({ i }) => connectionCount(cluster.monitorUrls[i] ?? '').catch(() => Infinity)));
    const victim = followers[clients.indexOf(Math.min(...clients))]?.i ?? -1;
    assert.ok(victim >= 0, `no follower among ${cluster.names.join(', ')} (leader ${leader})`);
    return victim;
  };

  const theLeader = async (): Promise<number> => {
    const leader = (await logInfo()).cluster?.leader;
    const victim = cluster.names.findIndex((name) => name === leader);
    assert.ok(victim >= 0, `the DS_LOG leader ${leader} is not one of ${cluster.names.join(', ')}`);
    return victim;
  };

  /** Applies `image` and kills server `victim` with -9 at once (the rollout has just begun); returns the log as it was. */
  let killedAt = 0;
  const applyAndKill = async (image: string, victim: number): Promise<readonly Envelope[]> => {
    assert.equal(await apply(image), 'daemonset.apps/fluentd configured\n');
    const logBefore = await readLog(survivorOf(victim));
    await cluster.kill9(victim);
    killedAt = Date.now();
    note(`killed ${cluster.names[victim]} with -9 after applying ${image}`);
    return logBefore;
  };

  const survivorOf = (victim: number): string => cluster.urls[(victim + 1) % cluster.urls.length] ?? '';

  /** Restarts server `victim` and waits until the log has a leader and two current replicas again. */
  const restartAndCatchUp = async (victim: number): Promise<void> => {
    await cluster.restart(victim);
    note(`restarted ${cluster.names[victim]}`);
    await eventually(async () => {
      const info = await logInfo();
      const leader = info.cluster?.leader ?? '';
      const replicas = info.cluster?.replicas ?? [];
      assert.notEqual(leader, '', 'the log has a leader');
      assert.deepEqual([leader, ...replicas.map((r) => r.name)].sort(), [...cluster.names], 'the leader and its replicas are the three servers');
      assert.deepEqual(replicas.map((r) => [r.name, r.current, r.offline ?? false]), replicas.map((r) => [r.name, true, false]));
    }, { timeoutMs: 20_000, intervalMs: 100, message: `${cluster.names[victim]} never became a current replica again` });
  };

  /**
   * While server `victim` is down the controller reports the rollout to `generation` finished. Read
   * without a consumer: 2.9.10 may place a new ephemeral consumer (every dsctl read makes one) on
   * the dead peer, and creating it then times out.
   */
  const rolloutFinishesWhileDown = async (generation: number, victim: number): Promise<void> => {
    try {
      await eventually(async () => {
        const s = await lastStatus();
        assert.deepEqual(
          [s?.observedGeneration, s?.desiredNumberScheduled, s?.updatedNumberScheduled, s?.numberAvailable],
          [generation, 3, 3, 3],
        );
      }, { timeoutMs: 60_000, intervalMs: 100, message: `the rollout to generation ${generation} never finished while ${cluster.names[victim]} was down` });
      console.log(`the rollout to generation ${generation} finished ${Date.now() - killedAt} ms after ${cluster.names[victim]} was killed`);
    } finally {
      await restartAndCatchUp(victim);
    }
  };

  /** dsctl shows the finished rollout: generation observed, one pod of `image` on every node. */
  const rolledOut = async (image: string, generation: number): Promise<void> => {
    // A new consumer may sit on a replica that has just come back and read its not yet current
    // copy of the log (dsctl then shows an older state for a moment): wait for it to catch up.
    await eventually(async () => {
      const ds = await getJson<DsJson>('ds', 'fluentd', '-n', 'kube-system');
      assert.deepEqual(
        [ds.metadata.generation, ds.status.observedGeneration, ds.status.updatedNumberScheduled, ds.status.numberAvailable],
        [generation, generation, 3, 3],
      );
      const pods = await getJson<PodList>('pods', '-n', 'kube-system');
      assert.deepEqual(pods.items.map((p) => p.spec.nodeName).sort(), [...NODES], 'one pod per node');
      assert.deepEqual(pods.items.map((p) => p.spec.containers[0]?.image), [image, image, image]);
    }, { timeoutMs: 15_000, intervalMs: 100, message: 'dsctl never showed the finished rollout' });
  };

  it('apply: 3/3/3 on the cluster', async () => {
    assert.equal(await apply('fluentd:v1'), 'daemonset.apps/fluentd created\n');
    await eventually(async () => {
      const ds = await getJson<DsJson>('ds', 'fluentd', '-n', 'kube-system');
      const s = ds.status;
      assert.deepEqual([s.desiredNumberScheduled, s.currentNumberScheduled, s.numberReady], [3, 3, 3]);
    }, { timeoutMs: 15_000, message: 'the DaemonSet never reached 3/3/3' });
  });

  it('a server killed with -9 during a rolling update: the log loses nothing, and the server comes back as a current replica', async () => {
    const victim = await aFollower();
    const logBefore = await applyAndKill('fluentd:v2', victim);
    const lastSeqBefore = logBefore.at(-1)?.seq ?? 0;
    let whileDown: number;
    try {
      // The two survivors are a majority: the log still answers (once a meta leader is elected, if
      // the victim was it), and its last sequence is not behind.
      whileDown = await eventually(async () => (await logInfo()).state.last_seq, { timeoutMs: 20_000, message: 'DS_LOG info while a server is down' });
      assert.ok(whileDown >= lastSeqBefore, `last sequence ${whileDown} while ${cluster.names[victim]} was down < ${lastSeqBefore} before`);
    } finally {
      await restartAndCatchUp(victim);
    }
    // A consumer may be placed on the replica that has just come back and first read its older copy.
    const logAfter = await eventually(async () => {
      const log = await readLog(survivorOf(victim));
      assert.ok((log.at(-1)?.seq ?? 0) >= whileDown, `the log read ends at ${log.at(-1)?.seq}, before ${whileDown}`);
      return log;
    }, { timeoutMs: 10_000, message: 'a read of the whole log after the restart' });
    assert.deepEqual(logAfter.slice(0, logBefore.length), logBefore);
    assertContiguous(logAfter);
  });

  it('a rolling update finishes while a server that does not lead the log is down', async () => {
    const victim = await aFollower();
    await applyAndKill('fluentd:v3', victim);
    await rolloutFinishesWhileDown(3, victim);
    await rolledOut('fluentd:v3', 3);
  });

  it('a rolling update finishes while the server leading the log is down', async () => {
    const victim = await theLeader();
    await applyAndKill('fluentd:v4', victim);
    await rolloutFinishesWhileDown(4, victim);
    await rolledOut('fluentd:v4', 4);
  });

  it('quorum lost (#19): two of three servers killed with -9 mid-rollout and restarted 5 s later, 3 times: every rollout completes, dsctl audit finds no break', async () => {
    for (let i = 0; i < 3; i++) {
      const generation = 5 + i;
      const image = `fluentd:v${generation}`;
      assert.equal(await apply(image), 'daemonset.apps/fluentd configured\n');
      const leader = await theLeader();
      const victims = [leader, (leader + 1) % cluster.urls.length];
      for (const v of victims) await cluster.kill9(v);
      killedAt = Date.now();
      note(`killed ${victims.map((v) => cluster.names[v]).join(' and ')} with -9 after applying ${image}: no quorum`);
      await delay(5000);
      await cluster.restart(victims[0]!); // with the survivor: a quorum again
      await restartAndCatchUp(victims[1]!);
      await eventually(async () => {
        const st = await lastStatus();
        assert.deepEqual([st?.observedGeneration, st?.desiredNumberScheduled, st?.updatedNumberScheduled, st?.numberAvailable], [generation, 3, 3, 3]);
      }, { timeoutMs: 90_000, intervalMs: 200, message: `the rollout to generation ${generation} never finished after the quorum came back` });
      console.log(`the rollout to generation ${generation} finished ${Date.now() - killedAt} ms after two servers were killed`);
      await rolledOut(image, generation);
    }
    const r = await runCli(['audit', '-o', 'json'], env);
    const report = JSON.parse(r.stdout) as { breaks: unknown[] };
    assert.deepEqual(report.breaks, [], 'dsctl audit found breaks');
    assert.equal(r.code, 0, r.stderr);
  });
});

/** A timestamped line in the test's output, to line up with the services' logs. */
function note(text: string): void {
  console.log(`${new Date().toISOString()} ${text}`);
}

/** The number of client connections a server reports on its monitor endpoint. */
async function connectionCount(monitorUrl: string): Promise<number> {
  const response = await fetch(`${monitorUrl}/connz`, { signal: AbortSignal.timeout(2_000) });
  const body = (await response.json()) as { readonly num_connections?: number };
  return body.num_connections ?? 0;
}

/** Sequences 1..N with no gap: no message disappeared from the middle of the log. */
function assertContiguous(log: readonly Envelope[]): void {
  const gaps = log.filter((env, i) => env.seq !== i + 1).map((env) => env.seq);
  assert.deepEqual(gaps.slice(0, 5), [], 'the log has gaps');
}
