// Regression (issue 19, finding 5): a service that starts before the bus is ready waits for it, as
// it waits out an election, instead of exiting and living only because a supervisor restarts it.
// Real processes against a real nats-server: first without JetStream (or not started at all),
// then restarted with JetStream on the same port. What waiting cannot mend (a server that refuses
// the credentials) still ends the process at once, with the message it always had.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { freePort, natsServerBinary, ownNatsServerUnavailable, portAccepts, terminate } from '../support/nats-server.js';
import { spawnService, type LogLine, type ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const skip = ownNatsServerUnavailable();

/** A nats-server on a fixed port, so that it can be stopped and started again with other flags. */
async function serverOn(port: number, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn(natsServerBinary()!, ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
  await eventually(async () => assert.ok(await portAccepts(port), `nats-server on ${port} does not accept yet`), { timeoutMs: 15_000 });
  return child;
}

const msg = (text: string) => (l: LogLine): boolean => l.json?.['msg'] === text;
const phase = (p: string) => (l: LogLine): boolean => l.json?.['msg'] === 'lifecycle' && l.json['phase'] === p;

describe('services wait for a bus that is not ready yet', { skip }, () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  const procs: ServiceProcess[] = [];

  before(async () => {
    dir = await tempDir('start-waits-');
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGTERM').catch(() => undefined);
    if (server) await terminate(server, 'SIGINT');
    server = undefined;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const controller = (name = 'controller'): ServiceProcess => {
    const p = spawnService(name, 'dist/services/controller/main.js', { NATS_URL: `nats://127.0.0.1:${port}`, CONTROLLER_ID: name, SLOTS: '4', LOG_LEVEL: 'info' });
    procs.push(p);
    return p;
  };
  const agent = (node: string): ServiceProcess => {
    const p = spawnService(node, 'dist/services/agent/main.js', { NATS_URL: `nats://127.0.0.1:${port}`, NODE_NAME: node, DATA_DIR: join(dir, node), DRIVER: 'sim', LOG_LEVEL: 'info' });
    procs.push(p);
    return p;
  };

  it('a controller and an agent started against a server without JetStream wait, and go live once it runs with JetStream', async () => {
    port = await freePort();
    server = await serverOn(port, []);
    const c = controller();
    const a = agent('node-1');
    const waiting = await c.waitForLog(msg('waiting for JetStream'), { message: "the controller's 'waiting for JetStream' line" });
    assert.match(String(waiting.json?.['reason']), /JetStream does not answer/);
    assert.equal(waiting.json?.['attempt'], 1);
    await a.waitForLog(msg('waiting for JetStream'), { message: "the agent's 'waiting for JetStream' line" });
    // Both stay up while the server has no JetStream (before the fix the controller exited here).
    assert.equal(c.lines().some(phase('live')), false);
    for (const p of [c, a]) assert.equal(await Promise.race([p.exited.then(() => 'exited'), Promise.resolve('running')]), 'running', p.output());

    await terminate(server, 'SIGINT');
    server = await serverOn(port, ['-js', '-sd', join(dir, 'store')]);
    await c.waitForLog(phase('live'), { timeoutMs: 30_000, message: "the controller's lifecycle 'live'" });
    await a.waitForLog(phase('live'), { timeoutMs: 30_000, message: "the agent's lifecycle 'live'" });
    assert.ok(c.lines().some(msg('JetStream ready')), c.output());
    assert.equal(await c.stop('SIGTERM'), 0, c.output());
    assert.equal(await a.stop('SIGTERM'), 0, a.output());
  });

  it('a controller started before any server waits for it, and goes live once it is there', async () => {
    port = await freePort();
    const c = controller();
    const waiting = await c.waitForLog(msg('waiting for NATS'), { message: "the 'waiting for NATS' line" });
    assert.match(String(waiting.json?.['reason']), /cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+/);
    server = await serverOn(port, ['-js', '-sd', join(dir, 'store-late')]);
    await c.waitForLog(phase('live'), { timeoutMs: 30_000, message: "the controller's lifecycle 'live'" });
    assert.equal(await c.stop('SIGTERM'), 0, c.output());
  });

  it('SIGTERM while waiting ends the wait: exit 0', async () => {
    port = await freePort();
    server = await serverOn(port, []);
    const c = controller();
    await c.waitForLog(msg('waiting for JetStream'));
    assert.equal(await c.stop('SIGTERM', 5_000), 0, c.output());
    assert.ok(c.lines().some(msg('stopped while starting')), c.output());
  });

  it('a server that refuses the credentials still ends the start at once, with the message', async () => {
    port = await freePort();
    const conf = join(dir, 'auth.conf');
    await writeFile(conf, 'authorization { user: someone, password: secret }\n');
    server = await serverOn(port, ['-c', conf]);
    const c = controller();
    const status = await c.exited;
    assert.equal(status.code, 1, c.output());
    const fatal = c.lines().find(msg('fatal'));
    const err = fatal?.json?.['err'] as { type?: string; message?: string } | undefined;
    assert.equal(err?.type, 'BusAuthorizationError', c.output());
    assert.equal(err?.message, `NATS at nats://127.0.0.1:${port} refused the connection: authorization violation (it requires credentials: set NATS_CREDS to a .creds file)`);
    assert.equal(c.lines().some(msg('waiting for NATS')), false, c.output());
  });
});
