// The process driver against real child processes: /bin/sh, sleep, and small node servers.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Container, PodSpec, Probe } from '../../libs/model/types.js';
import type { RuntimeDriver, RuntimeEvent, RuntimePod } from '../../libs/agent-runtime/driver.js';
import type { PidRecord } from '../../services/agent/drivers/pid-files.js';
import { pidFilePath } from '../../services/agent/drivers/pid-files.js';
import { resolvePort, runProbe } from '../../services/agent/drivers/probe.js';
import type { ProcessDriver, ProcessDriverOptions } from '../../services/agent/drivers/process-driver.js';
import { createProcessDriver } from '../../services/agent/drivers/process-driver.js';
import { createSimDriver } from '../../libs/agent-runtime/sim-driver.js';
import { containerLogPath, createContainerOutput } from '../../services/agent/drivers/container-output.js';
import { eventually } from '../support/eventually.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

type LogRecord = Readonly<Record<string, unknown>> & { readonly msg?: string };

interface Harness {
  readonly driver: ProcessDriver;
  readonly sim: RuntimeDriver;
  readonly events: { readonly uid: string; readonly event: RuntimeEvent }[];
  readonly simEvents: { readonly uid: string; readonly event: RuntimeEvent }[];
  readonly logs: LogRecord[];
  readonly stateDir: string;
  eventsOf(uid: string): RuntimeEvent[];
  outputOf(uid: string): string[];
}

const harnesses: Harness[] = [];
let root = '';

before(async () => {
  root = await tempDir('process-driver-');
});

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.driver.stopAll()));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

let stateDirs = 0;

const NODE = { name: 'node-int', hostIPs: ['127.0.0.1'], allocatable: { cpu: '2', memory: '1Gi' } } as const;

function harness(extra: Partial<ProcessDriverOptions> = {}): Harness {
  const events: Harness['events'] = [];
  const simEvents: Harness['simEvents'] = [];
  const logs: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogRecord) });
  const sim = createSimDriver({ listener: (uid, event) => simEvents.push({ uid, event }), startDelayMs: 0, readyDelayMs: 0 });
  const stateDir = extra.stateDir ?? join(root, `state-${stateDirs++}`);
  const driver = createProcessDriver({
    stateDir,
    node: NODE,
    listener: (uid, event) => events.push({ uid, event }),
    log,
    simFallback: sim,
    restartBackoff: { initialMs: 20, maxMs: 40 },
    pollMs: 20,
    killOnExit: true,
    ...extra,
  });
  const h: Harness = {
    driver,
    sim,
    events,
    simEvents,
    logs,
    stateDir,
    eventsOf: (uid) => events.filter((e) => e.uid === uid).map((e) => e.event),
    outputOf: (uid) => logs.filter((r) => r['uid'] === uid && r.msg === 'container output').map((r) => String(r['line'])),
  };
  harnesses.push(h);
  return h;
}

let uids = 0;

function pod(containers: readonly Container[], spec: Partial<PodSpec> = {}): RuntimePod {
  const n = uids++;
  return { namespace: 'default', name: `ds-${n}`, uid: `uid-${n}`, spec: { containers, ...spec }, annotations: {} };
}

const sh = (script: string, extra: Partial<Container> = {}): Container => ({
  name: 'main',
  image: 'busybox:1.36',
  command: ['/bin/sh', '-c', script],
  ...extra,
});

function readPidRecord(stateDir: string, uid: string, container = 'main'): PidRecord {
  return JSON.parse(readFileSync(pidFilePath(stateDir, uid, container), 'utf8')) as PidRecord;
}

/**
 * process.kill(pid, 0) succeeds, and the process is not a zombie: an orphan that died waits
 * to be reaped by PID 1, which on some machines (containers, microVMs) never reaps it.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // reaped between the two checks
  }
}

function exitRecords(h: Harness, uid: string): LogRecord[] {
  return h.logs.filter((r) => r['uid'] === uid && r.msg === 'container exited');
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fastProbe = { periodSeconds: 0.05, timeoutSeconds: 1 } as const;

describe('process driver: lifecycle', () => {
  it('starts a container: started then ready, with a pid file naming the child', async () => {
    const h = harness();
    const p = pod([{ name: 'main', image: 'busybox', command: ['sleep'], args: ['1000'] }]);
    h.driver.start(p);
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    const record = readPidRecord(h.stateDir, p.uid);
    assert.deepEqual(record.cmdline, ['sleep', '1000']);
    assert.equal(isAlive(record.pid), true);
    assert.deepEqual(h.driver.running(), [p.uid]);
    assert.equal(exitRecords(h, p.uid).length, 0, 'the second start() was a no-op');
  });

  it('stop sends SIGTERM to the process group; the child is gone and its pid file removed', async () => {
    const h = harness();
    const p = pod([sh('trap "echo got-term; exit 0" TERM; sleep 1000 & echo "child $!"; wait')]);
    h.driver.start(p);
    const grandchild = await eventually(() => {
      const line = h.outputOf(p.uid).find((l) => l.startsWith('child '));
      assert.ok(line);
      return Number(line.slice('child '.length));
    });
    const { pid } = readPidRecord(h.stateDir, p.uid);
    await h.driver.stop(p.uid);
    assert.equal(isAlive(pid), false);
    // The group was signalled before stop() resolved; a busy machine may take a moment to end it.
    await eventually(() => assert.equal(isAlive(grandchild), false, 'a forked child of the shell is stopped too'));
    assert.equal(existsSync(pidFilePath(h.stateDir, p.uid, 'main')), false);
    assert.deepEqual(h.driver.running(), []);
    await eventually(() => assert.deepEqual(h.outputOf(p.uid).at(-1), 'got-term'));
    assert.deepEqual(exitRecords(h, p.uid).map((r) => r['exitCode']), [0]);
    await h.driver.stop(p.uid);
    await h.driver.stop('no-such-uid');
  });

  it('stop of a plain process ends it by SIGTERM', async () => {
    const h = harness();
    const p = pod([{ name: 'main', image: 'busybox', command: ['sleep', '1000'] }]);
    h.driver.start(p);
    await eventually(() => assert.equal(h.eventsOf(p.uid).length, 2));
    const { pid } = readPidRecord(h.stateDir, p.uid);
    await h.driver.stop(p.uid);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(exitRecords(h, p.uid).map((r) => [r['signal'], r['exitCode']]), [['SIGTERM', 143]]);
  });

  it('a process ignoring SIGTERM is SIGKILLed after the grace (capped by maxGraceMs)', async () => {
    const h = harness({ maxGraceMs: 300 });
    const p = pod([sh('trap "" TERM; echo trapped; while :; do sleep 0.05; done')]);
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.outputOf(p.uid), ['trapped']));
    const { pid } = readPidRecord(h.stateDir, p.uid);
    await h.driver.stop(p.uid);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(exitRecords(h, p.uid).map((r) => r['signal']), ['SIGKILL']);
    const kill = h.logs.find((r) => r.msg === 'container ignored SIGTERM; killing');
    assert.equal(kill?.['graceMs'], 300);
  });

  it('terminationGracePeriodSeconds sets the grace', async () => {
    const h = harness();
    const p = pod([sh('trap "" TERM; echo trapped; while :; do sleep 0.05; done')], { terminationGracePeriodSeconds: 0.2 });
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.outputOf(p.uid), ['trapped']));
    await h.driver.stop(p.uid);
    assert.equal(h.logs.find((r) => r.msg === 'container ignored SIGTERM; killing')?.['graceMs'], 200);
  });

  it('restartPolicy Always restarts an exiting container with back-off; restartCount increments', async () => {
    const h = harness();
    const p = pod([sh('echo run; exit 3')]);
    h.driver.start(p);
    await eventually(() => assert.ok(h.eventsOf(p.uid).some((e) => e.type === 'started' && e.restartCount === 3)));
    await h.driver.stop(p.uid);
    assert.deepEqual(h.eventsOf(p.uid).slice(0, 10), [
      { type: 'started', restartCount: 0 },
      { type: 'ready' },
      { type: 'notReady', reason: 'Error' },
      { type: 'started', restartCount: 1 },
      { type: 'ready' },
      { type: 'notReady', reason: 'CrashLoopBackOff' },
      { type: 'started', restartCount: 2 },
      { type: 'ready' },
      { type: 'notReady', reason: 'CrashLoopBackOff' },
      { type: 'started', restartCount: 3 },
    ]);
    assert.deepEqual(exitRecords(h, p.uid).slice(0, 3).map((r) => r['exitCode']), [3, 3, 3]);
    const delays = h.logs.filter((r) => r.msg === 'container will restart').map((r) => r['restartInMs']);
    assert.deepEqual(delays.slice(0, 3), [20, 40, 40], 'doubling from initialMs, capped at maxMs');
  });

  it('restartPolicy Never reports a failed container with its exit code', async () => {
    const h = harness();
    const p = pod([sh('exit 7')], { restartPolicy: 'Never' });
    h.driver.start(p);
    await eventually(() =>
      assert.deepEqual(h.eventsOf(p.uid), [
        { type: 'started', restartCount: 0 },
        { type: 'ready' },
        { type: 'failed', reason: 'Error', exitCode: 7 },
      ]),
    );
    assert.deepEqual(h.driver.running(), [p.uid], 'a failed pod is held until stopped');
  });

  it('a command that cannot be run is retried like a crash', async () => {
    const h = harness();
    const p = pod([{ name: 'main', image: 'x', command: ['/nonexistent/binary'] }]);
    h.driver.start(p);
    await eventually(() => assert.ok(h.eventsOf(p.uid).filter((e) => e.type === 'notReady').length >= 2));
    assert.deepEqual(h.eventsOf(p.uid).slice(0, 2), [
      { type: 'notReady', reason: 'Error' },
      { type: 'notReady', reason: 'CrashLoopBackOff' },
    ]);
  });

  it('a pod with two containers is started once both run, and ready once both are', async () => {
    const h = harness();
    const p = pod([
      { name: 'a', image: 'x', command: ['sleep', '1000'] },
      { name: 'b', image: 'x', command: ['sleep', '1001'] },
    ]);
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    assert.deepEqual(readPidRecord(h.stateDir, p.uid, 'b').cmdline, ['sleep', '1001']);
  });

  it('env values, $(VAR) references, the downward API and workingDir reach the process', async () => {
    const h = harness();
    const dir = join(root, 'workdir');
    mkdirSync(dir, { recursive: true });
    const p = pod(
      [
        sh(`echo "$GREETING from $(pwd) as $POD_NAME"; echo '$(GREETING)-expanded $$(KEPT)'; echo "MY_NODE=$MY_NODE SA=$SA IP=$IP CPU=$CPU_MILLIS"; sleep 1000`, {
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            // Node daemons learn their node from spec.nodeName: the pod is bound to the driver's node.
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'CPU_MILLIS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
          ],
          workingDir: dir,
        }),
      ],
    );
    h.driver.start(p);
    await eventually(() =>
      assert.deepEqual(h.outputOf(p.uid), [
        `hello from ${dir} as ${p.name}`,
        'hello-expanded $(KEPT)',
        'MY_NODE=node-int SA=default IP=127.0.0.1 CPU=2000',
      ]),
    );
    const output = h.logs.find((r) => r['uid'] === p.uid && r.msg === 'container output');
    assert.equal(output?.['container'], 'main');
    assert.equal(output?.['pod'], `default/${p.name}`);
    assert.equal(output?.['stream'], 'stdout');
  });

  it('container output is logged at a bounded rate; dropped lines are counted', async () => {
    const h = harness({ outputRate: { linesPerSecond: 0.001, burst: 5, maxLineChars: 100 } });
    const p = pod([sh('i=1; while [ $i -le 1000 ]; do echo "line $i"; i=$((i+1)); done')], { restartPolicy: 'Never' });
    h.driver.start(p);
    const droppedCounts = (): unknown[] =>
      h.logs.filter((r) => r['uid'] === p.uid && r.msg === 'container output dropped over the rate limit').map((r) => r['dropped']);
    // The count is logged when the output ends.
    await eventually(() => assert.deepEqual(droppedCounts(), [995]));
    assert.deepEqual(h.outputOf(p.uid), ['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('an env var the downward API cannot answer fails the pod before anything runs', async () => {
    const h = harness();
    const p = pod([sh('sleep 1000', { env: [{ name: 'PHASE', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }] })]);
    h.driver.start(p);
    assert.deepEqual(h.eventsOf(p.uid), [
      { type: 'failed', reason: 'CreateContainerConfigError: container "main": env PHASE: fieldRef.fieldPath "status.phase": not supported in env' },
    ]);
    assert.equal(existsSync(pidFilePath(h.stateDir, p.uid, 'main')), false);
  });

  it('an output file that reached maxFileBytes is copied to <file>.1 and truncated once read', () => {
    const dir = join(root, 'rotate');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'main.stdout.log');
    writeFileSync(file, 'one\ntwo\n');
    const logs: LogRecord[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as LogRecord) });
    const follower = createContainerOutput(log, { linesPerSecond: 1000, burst: 1000, maxLineChars: 100 }, { maxFileBytes: 8 }).follow(file, 'stdout');
    follower.poll();
    assert.equal(readFileSync(`${file}.1`, 'utf8'), 'one\ntwo\n');
    assert.equal(readFileSync(file, 'utf8'), '');
    writeFileSync(file, 'three\n', { flag: 'a' });
    follower.poll();
    follower.close();
    assert.deepEqual(logs.map((r) => r['line']), ['one', 'two', 'three']);
  });

  it('a container with args but no command fails with a clear reason', async () => {
    const h = harness();
    const p = pod([{ name: 'main', image: 'nginx', args: ['-g', 'daemon off;'] }]);
    h.driver.start(p);
    assert.deepEqual(h.eventsOf(p.uid), [
      {
        type: 'failed',
        reason:
          'InvalidSpec: container "main" has args but no command; the process driver has no image entrypoint to run them with',
      },
    ]);
    await h.driver.stop(p.uid);
    assert.deepEqual(h.driver.running(), []);
  });

  it('a pod with no command at all is handed to the sim driver, logged once', async () => {
    const h = harness();
    const p1 = pod([{ name: 'main', image: 'nginx:1.25' }]);
    const p2 = pod([{ name: 'main', image: 'nginx:1.25' }]);
    h.driver.start(p1);
    h.driver.start(p2);
    await eventually(() =>
      assert.deepEqual(h.simEvents, [
        { uid: p1.uid, event: { type: 'started', restartCount: 0 } },
        { uid: p2.uid, event: { type: 'started', restartCount: 0 } },
        { uid: p1.uid, event: { type: 'ready' } },
        { uid: p2.uid, event: { type: 'ready' } },
      ]),
    );
    assert.deepEqual(h.events, []);
    assert.deepEqual(h.driver.running(), [p1.uid, p2.uid]);
    assert.equal(h.logs.filter((r) => r.msg === 'pods without container commands run on the sim driver').length, 1);
    await h.driver.stop(p1.uid);
    assert.deepEqual(h.sim.running(), [p2.uid]);
    await h.driver.stopAll();
    assert.deepEqual(h.sim.running(), []);
  });
});

describe('process driver: readiness probes', () => {
  it('a failing exec probe keeps the pod not ready until a file appears, then flips on failureThreshold', async () => {
    const h = harness();
    const dir = join(root, `exec-probe-${uids}`);
    mkdirSync(dir, { recursive: true });
    const probe: Probe = {
      exec: { command: ['/bin/sh', '-c', `echo x >> ${dir}/probes; test -f ${dir}/ready`] },
      ...fastProbe,
      failureThreshold: 2,
    };
    const p = pod([{ name: 'main', image: 'x', command: ['sleep', '1000'], readinessProbe: probe }]);
    h.driver.start(p);
    const probeCount = (): number => (existsSync(join(dir, 'probes')) ? readFileSync(join(dir, 'probes'), 'utf8').length / 2 : 0);
    await eventually(() => assert.ok(probeCount() >= 3));
    assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }]);

    writeFileSync(join(dir, 'ready'), '');
    await eventually(() => assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));

    unlinkSync(join(dir, 'ready'));
    await eventually(() =>
      assert.deepEqual(h.eventsOf(p.uid), [
        { type: 'started', restartCount: 0 },
        { type: 'ready' },
        { type: 'notReady', reason: 'ContainersNotReady' },
      ]),
    );
  });

  it('initialDelaySeconds holds back the first probe', async () => {
    const h = harness();
    const dir = join(root, `initial-delay-${uids}`);
    mkdirSync(dir, { recursive: true });
    const probe: Probe = { exec: { command: ['/bin/sh', '-c', `date +%s%N >> ${dir}/probes`] }, ...fastProbe, initialDelaySeconds: 0.3 };
    const p = pod([{ name: 'main', image: 'x', command: ['sleep', '1000'], readinessProbe: probe }]);
    const startedAtNs = BigInt(Date.now()) * 1_000_000n;
    h.driver.start(p);
    await eventually(() => assert.equal(h.eventsOf(p.uid).length, 2));
    const firstProbeNs = BigInt(readFileSync(join(dir, 'probes'), 'utf8').split('\n')[0] ?? '0');
    assert.ok(firstProbeNs - startedAtNs >= 300_000_000n, `first probe ${firstProbeNs - startedAtNs}ns after start`);
  });

  it('httpGet against a node HTTP server on a named port', async () => {
    const h = harness();
    const port = await freePort();
    const server = `require('http').createServer((q, s) => { s.statusCode = q.url === '/healthz' ? 200 : 404; s.end(); }).listen(${port}, '127.0.0.1', () => console.log('listening'))`;
    const p = pod([
      {
        name: 'web',
        image: 'x',
        command: [process.execPath, '-e', server],
        ports: [{ name: 'http', containerPort: port }],
        readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, ...fastProbe },
      },
    ]);
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
  });

  it('tcpSocket against a node TCP server', async () => {
    const h = harness();
    const port = await freePort();
    const server = `require('net').createServer((c) => c.end()).listen(${port}, '127.0.0.1')`;
    const p = pod([
      {
        name: 'tcp',
        image: 'x',
        command: [process.execPath, '-e', server],
        readinessProbe: { tcpSocket: { port }, ...fastProbe },
      },
    ]);
    h.driver.start(p);
    await eventually(() => assert.deepEqual(h.eventsOf(p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    const { pid } = readPidRecord(h.stateDir, p.uid, 'tcp');
    await h.driver.stop(p.uid);
    assert.equal(isAlive(pid), false);
  });
});

describe('runProbe', () => {
  let http: Server;
  let httpPort = 0;
  const container: Container = { name: 'c', image: 'x', ports: [{ name: 'web', containerPort: 0 }] };

  before(async () => {
    http = createHttpServer((req, res) => {
      const status = Number(req.url?.slice(1));
      if (req.url === '/hang') return; // never answers: the probe must time out
      res.statusCode = Number.isInteger(status) && status >= 200 ? status : 200;
      res.end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
  });

  after(async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  const httpCases: readonly { readonly path: string; readonly ok: boolean; readonly message?: string }[] = [
    { path: '/200', ok: true },
    { path: '/204', ok: true },
    { path: '/302', ok: true },
    { path: '/399', ok: true },
    { path: '/404', ok: false, message: 'httpGet probe got HTTP 404' },
    { path: '/500', ok: false, message: 'httpGet probe got HTTP 500' },
    { path: '/hang', ok: false, message: 'httpGet probe timed out after 200ms' },
  ];
  for (const tc of httpCases) {
    it(`httpGet ${tc.path} → ${tc.ok ? 'success' : 'failure'}`, async () => {
      const result = await runProbe({ httpGet: { path: tc.path, port: httpPort } }, { container, env: {}, timeoutMs: 200 });
      assert.deepEqual(result, tc.ok ? { ok: true } : { ok: false, message: tc.message });
    });
  }

  it('tcpSocket succeeds on a listening port and fails on a closed one', async () => {
    assert.deepEqual(await runProbe({ tcpSocket: { port: httpPort } }, { container, env: {}, timeoutMs: 500 }), { ok: true });
    const closed = await freePort();
    const result = await runProbe({ tcpSocket: { port: closed } }, { container, env: {}, timeoutMs: 500 });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /ECONNREFUSED/);
  });

  it('exec succeeds on exit 0, fails otherwise or on timeout', async () => {
    const ctx = { container, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 300 };
    assert.deepEqual(await runProbe({ exec: { command: ['true'] } }, ctx), { ok: true });
    assert.deepEqual(await runProbe({ exec: { command: ['/bin/sh', '-c', 'exit 4'] } }, ctx), { ok: false, message: 'exec probe exited with 4' });
    assert.deepEqual(await runProbe({ exec: { command: ['sleep', '10'] } }, ctx), { ok: false, message: 'exec probe timed out after 300ms' });
  });

  it('a named port that the container does not declare fails the probe', async () => {
    assert.deepEqual(await runProbe({ tcpSocket: { port: 'metrics' } }, { container, env: {}, timeoutMs: 100 }), {
      ok: false,
      message: 'tcpSocket probe port metrics not found',
    });
  });

  const portCases: readonly [string | number, number | undefined][] = [
    [8080, 8080],
    ['8080', 8080],
    ['http', 80],
    ['metrics', 9100],
    ['missing', undefined],
    [0, undefined],
    [70000, undefined],
  ];
  for (const [port, expected] of portCases) {
    it(`resolvePort(${JSON.stringify(port)}) → ${String(expected)}`, () => {
      const c: Container = {
        name: 'c',
        image: 'x',
        ports: [
          { name: 'http', containerPort: 80 },
          { name: 'metrics', containerPort: 9100 },
        ],
      };
      assert.equal(resolvePort(port, c), expected);
    });
  }
});

describe('process driver: stale pid files', () => {
  const strays: ChildProcess[] = [];

  after(() => {
    for (const child of strays) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  function stray(args: readonly string[]): { child: ChildProcess; exited: Promise<NodeJS.Signals | null> } {
    const child = spawn('sleep', args, { detached: true, stdio: 'ignore' });
    strays.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    return { child, exited };
  }

  function writeRecord(stateDir: string, uid: string, record: PidRecord): string {
    const path = pidFilePath(stateDir, uid, 'main');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(record));
    return path;
  }

  it('cleanupStale kills a leftover child whose cmdline matches, spares a recycled pid, removes every file', async () => {
    const stateDir = join(root, 'stale');
    const leftover = stray(['1000']);
    const other = stray(['1001']);
    const gone = stray(['0']);
    await gone.exited;
    const pid = (s: { child: ChildProcess }): number => s.child.pid ?? assert.fail('spawned without a pid');
    await eventually(() => assert.deepEqual(readFileSync(`/proc/${pid(leftover)}/cmdline`, 'utf8'), 'sleep\u00001000\u0000'));
    await eventually(() => assert.deepEqual(readFileSync(`/proc/${pid(other)}/cmdline`, 'utf8'), 'sleep\u00001001\u0000'));
    const files = [
      writeRecord(stateDir, 'old-pod', { pid: pid(leftover), cmdline: ['sleep', '1000'] }),
      writeRecord(stateDir, 'recycled', { pid: pid(other), cmdline: ['/usr/bin/some-daemon', '--flag'] }),
      writeRecord(stateDir, 'dead', { pid: pid(gone), cmdline: ['sleep', '0'] }),
    ];
    writeFileSync(join(stateDir, 'pids', 'torn.main.pid'), '{"pid": 12');

    const h = harness({ stateDir });
    const result = await h.driver.cleanupStale();

    assert.deepEqual(result, { killed: [pid(leftover)], removedFiles: 4 });
    assert.equal(await leftover.exited, 'SIGKILL');
    assert.equal(isAlive(pid(other)), true, 'a pid whose cmdline differs is not ours');
    for (const file of files) assert.equal(existsSync(file), false);
    assert.deepEqual(await h.driver.cleanupStale(), { killed: [], removedFiles: 0 });
  });

  it('cleanupStale of a new driver kills the children of an earlier driver on the same state dir', async () => {
    const stateDir = join(root, 'stale-real');
    const earlier = harness({ stateDir });
    const p = pod([{ name: 'main', image: 'x', command: ['sleep', '1000'] }], { restartPolicy: 'Never' });
    earlier.driver.start(p);
    await eventually(() => assert.equal(earlier.eventsOf(p.uid).length, 2));
    const record = readPidRecord(stateDir, p.uid);
    assert.equal(typeof record.startTime, 'string', 'the driver records the start time');

    const later = harness({ stateDir });
    assert.deepEqual(await later.driver.cleanupStale(), { killed: [record.pid], removedFiles: 1 });
    await eventually(() =>
      assert.deepEqual(earlier.eventsOf(p.uid).at(-1), { type: 'failed', reason: 'Error', exitCode: 137 }),
    );
    assert.equal(isAlive(record.pid), false);
  });

  it('cleanupStale leaves the pid files of its own live children alone', async () => {
    const h = harness();
    const p = pod([{ name: 'main', image: 'x', command: ['sleep', '1000'] }]);
    h.driver.start(p);
    await eventually(() => assert.equal(h.eventsOf(p.uid).length, 2));
    const { pid } = readPidRecord(h.stateDir, p.uid);
    assert.deepEqual(await h.driver.cleanupStale(), { killed: [], removedFiles: 0 });
    assert.equal(isAlive(pid), true);
  });
});

// An agent that is kill -9'd leaves its containers running, as a kubelet restart does; the next
// one adopts them. The driver runs in a process of its own here (test/support/driver-host.ts),
// so that killing it orphans the containers for real.
describe('process driver: adoption after a kill -9', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  const hosts: ServiceProcess[] = [];
  const strays: ChildProcess[] = [];
  let dirs = 0;

  after(async () => {
    for (const h of hosts) await h.stop('SIGTERM').catch(() => undefined);
    for (const child of strays) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  function startHost(stateDir: string, pods: readonly RuntimePod[]): ServiceProcess {
    const h = spawnService(`driver-host-${hosts.length}`, 'dist/test/support/driver-host.js', { STATE_DIR: stateDir, PODS: JSON.stringify(pods), NODE_NAME: 'node-adopt' });
    hosts.push(h);
    return h;
  }

  function hostEvents(h: ServiceProcess, uid: string): RuntimeEvent[] {
    return h
      .lines()
      .filter((l) => l.json?.['msg'] === 'runtime event' && l.json['uid'] === uid)
      .map((l) => l.json!['event'] as RuntimeEvent);
  }

  function hostOutput(h: ServiceProcess, uid: string): string[] {
    return h
      .lines()
      .filter((l) => l.json?.['msg'] === 'container output' && l.json['uid'] === uid)
      .map((l) => String(l.json!['line']));
  }

  async function recovery(h: ServiceProcess): Promise<{ adopted: number[]; restarted: number; killed: number[] }> {
    const { json } = await h.waitForLog((l) => l.json?.['msg'] === 'recovery', { message: 'the recovery' });
    return { adopted: json?.['adopted'] as number[], restarted: json?.['restarted'] as number, killed: json?.['killed'] as number[] };
  }

  function freshDir(): string {
    const dir = join(root, `adopt-${dirs++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  // A container that writes a line every 50 ms: with its output on a pipe to a dead agent, the
  // next write would end it with SIGPIPE.
  const ticker = (): Container => sh('i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done', { env: [{ name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] });

  it('adopts a running container across three kills in a row: same pid, restart count kept, output still written and followed', async () => {
    const stateDir = freshDir();
    const p = pod([ticker()]);
    let host = startHost(stateDir, [p]);
    await eventually(() => assert.deepEqual(hostEvents(host, p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    await eventually(() => assert.ok(hostOutput(host, p.uid).length > 0));
    const { pid } = readPidRecord(stateDir, p.uid);
    assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes('MY_NODE=node-adopt'));
    const stdout = containerLogPath(stateDir, p.uid, 'main', 'stdout');

    for (let kill = 1; kill <= 3; kill++) {
      await host.kill9();
      assert.equal(isAlive(pid), true, `kill ${kill}: the container outlives the driver`);
      // It goes on writing with no driver running: its output goes to a file, not to a dead pipe.
      const size = statSync(stdout).size;
      await eventually(() => assert.ok(statSync(stdout).size > size, 'the container writes while no driver runs'));

      host = startHost(stateDir, [p]);
      assert.deepEqual(await recovery(host), { adopted: [pid], restarted: 0, killed: [] }, `kill ${kill}`);
      // The new driver states what runs, with the restart count it had, and follows its output.
      await eventually(() => assert.deepEqual(hostEvents(host, p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
      await eventually(() => assert.ok(hostOutput(host, p.uid).some((l) => l.startsWith('tick '))));
      assert.equal(readPidRecord(stateDir, p.uid).pid, pid, `kill ${kill}: the pid file still names the same process`);
      assert.equal(isAlive(pid), true);
    }
    const lines = readFileSync(stdout, 'utf8').trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['tick 0', 'tick 1', 'tick 2'], 'one file holds the output of the whole run');
    assert.equal(lines.at(-1), `tick ${lines.length - 1}`, 'no line was lost or written twice');

    // A stop of the adopted container works as for a child: SIGTERM to its group, gone, files removed.
    assert.equal(await host.stop('SIGTERM'), 0);
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(pidFilePath(stateDir, p.uid, 'main')), false);
    assert.equal(existsSync(stdout), false);
  });

  it('a container that died while no driver ran is started again and counted: notReady, started with restartCount 1, ready', async () => {
    const stateDir = freshDir();
    const p = pod([ticker()]);
    let host = startHost(stateDir, [p]);
    await eventually(() => assert.equal(hostEvents(host, p.uid).length, 2));
    const first = readPidRecord(stateDir, p.uid).pid;
    await host.kill9();
    process.kill(first, 'SIGKILL');
    await eventually(() => assert.equal(isAlive(first), false));

    host = startHost(stateDir, [p]);
    assert.deepEqual(await recovery(host), { adopted: [], restarted: 1, killed: [] });
    await eventually(() =>
      assert.deepEqual(hostEvents(host, p.uid), [
        { type: 'notReady', reason: 'ContainerStatusUnknown' },
        { type: 'started', restartCount: 1 },
        { type: 'ready' },
      ]),
    );
    const second = readPidRecord(stateDir, p.uid);
    assert.notEqual(second.pid, first);
    assert.equal(second.restartCount, 1);

    // The count survives the next kill, where the container is adopted.
    await host.kill9();
    host = startHost(stateDir, [p]);
    assert.deepEqual(await recovery(host), { adopted: [second.pid], restarted: 0, killed: [] });
    await eventually(() => assert.deepEqual(hostEvents(host, p.uid), [{ type: 'started', restartCount: 1 }, { type: 'ready' }]));
  });

  it('a pid file naming another process (a reused pid) is neither adopted nor killed; the container starts again, counted', async () => {
    const stateDir = freshDir();
    const p = pod([{ name: 'main', image: 'x', command: ['sleep', '1000'] }]);
    const stranger = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    strays.push(stranger);
    const pid = stranger.pid ?? assert.fail('spawned without a pid');
    await eventually(() => assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\u00001000\u0000'));
    // The same pid and command line, but not the start time the driver recorded.
    const path = pidFilePath(stateDir, p.uid, 'main');
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ pid, cmdline: ['sleep', '1000'], startTime: '1', restartCount: 2, ready: true }));

    const host = startHost(stateDir, [p]);
    assert.deepEqual(await recovery(host), { adopted: [], restarted: 1, killed: [] });
    await eventually(() =>
      assert.deepEqual(hostEvents(host, p.uid), [
        { type: 'notReady', reason: 'ContainerStatusUnknown' },
        { type: 'started', restartCount: 3 },
        { type: 'ready' },
      ]),
    );
    assert.equal(isAlive(pid), true, 'the stranger is left alone');
    assert.notEqual(readPidRecord(stateDir, p.uid).pid, pid);
  });

  it('the containers of pods no longer wanted are killed, their files removed; the others adopted', async () => {
    const stateDir = freshDir();
    const kept = pod([{ name: 'main', image: 'x', command: ['sleep', '1001'] }]);
    const gone = pod([{ name: 'main', image: 'x', command: ['sleep', '1002'] }]);
    let host = startHost(stateDir, [kept, gone]);
    await eventually(() => assert.equal(hostEvents(host, kept.uid).length + hostEvents(host, gone.uid).length, 4));
    const keptPid = readPidRecord(stateDir, kept.uid).pid;
    const gonePid = readPidRecord(stateDir, gone.uid).pid;
    await host.kill9();

    host = startHost(stateDir, [kept]);
    assert.deepEqual(await recovery(host), { adopted: [keptPid], restarted: 0, killed: [gonePid] });
    assert.equal(isAlive(gonePid), false);
    assert.equal(isAlive(keptPid), true);
    assert.equal(existsSync(pidFilePath(stateDir, gone.uid, 'main')), false);
    assert.equal(existsSync(containerLogPath(stateDir, gone.uid, 'main', 'stdout')), false);
    assert.deepEqual(hostEvents(host, gone.uid), []);
  });

  it('readiness probes resume on an adopted container: ready as it was, not ready after failureThreshold failures', async () => {
    const stateDir = freshDir();
    const flag = join(stateDir, 'ready');
    writeFileSync(flag, '');
    const p = pod([
      { name: 'main', image: 'x', command: ['sleep', '1003'], readinessProbe: { exec: { command: ['test', '-f', flag] }, ...fastProbe, failureThreshold: 2 } },
    ]);
    let host = startHost(stateDir, [p]);
    await eventually(() => assert.deepEqual(hostEvents(host, p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    await eventually(() => assert.equal(readPidRecord(stateDir, p.uid).ready, true));
    await host.kill9();

    host = startHost(stateDir, [p]);
    await recovery(host);
    await eventually(() => assert.deepEqual(hostEvents(host, p.uid), [{ type: 'started', restartCount: 0 }, { type: 'ready' }]));
    unlinkSync(flag);
    await eventually(() =>
      assert.deepEqual(hostEvents(host, p.uid), [
        { type: 'started', restartCount: 0 },
        { type: 'ready' },
        { type: 'notReady', reason: 'ContainersNotReady' },
      ]),
    );
  });
});
