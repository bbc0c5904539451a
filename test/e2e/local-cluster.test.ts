// `npm start` end to end: the real launcher (dist/scripts/local-cluster.js), a real nats-server,
// and — once they are built — the real controller, agents and CLI.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { freePort, natsServerBinary, startNats } from '../support/nats-server.js';
import { REPO_ROOT, runCli, spawnService } from '../support/processes.js';
import type { LogLine, ServiceProcess } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const LAUNCHER = 'dist/scripts/local-cluster.js';

function launcherSaid(pattern: RegExp): (line: LogLine) => boolean {
  return (line) => /^\[launcher\]\s/.test(line.text) && pattern.test(line.text);
}

function pidFrom(line: LogLine): number {
  const pid = /\(pid (\d+)\)/.exec(line.text)?.[1];
  assert.ok(pid !== undefined, `no pid in ${line.text}`);
  return Number(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Index of the first output line matching, for order checks. */
function indexOf(launcher: ServiceProcess, pattern: RegExp): number {
  const index = launcher.lines().findIndex((line) => pattern.test(line.text));
  assert.ok(index >= 0, `no line matching ${pattern} in:\n${launcher.output()}`);
  return index;
}

/** Running, and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const folders: string[] = [];
after(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await tempDir('local-cluster-e2e-');
  folders.push(dir);
  return dir;
}

describe('npm start (scripts/local-cluster)', () => {
  const noBinary = natsServerBinary() === undefined ? 'nats-server is not installed (bash scripts/setup.sh)' : false;

  it('runs an embedded nats-server, restarts it after kill -9, and stops cleanly on SIGTERM', { skip: noBinary }, async () => {
    const dir = await dataDir();
    const port = await freePort();
    const launcher = spawnService('launcher', LAUNCHER, {
      NATS_URL: undefined,
      NATS_PORT: String(port),
      NODES: '0',
      CONTROLLERS: '0',
      DATA_DIR: dir,
    });
    const first = pidFrom(await launcher.waitForLog(launcherSaid(/started nats \(pid \d+\)/)));
    await launcher.waitForLog(launcherSaid(new RegExp(`nats-server is ready at nats://127\\.0\\.0\\.1:${port}$`)));
    assert.ok(existsSync(join(dir, 'nats', 'jetstream')), 'the store is in DATA_DIR/nats');
    assert.ok(launcher.lines().some((line) => line.text.includes(`try:          DSCTL_CONTEXT=${join(dir, 'context.json')} npx dsctl get nodes`)), launcher.output());

    process.kill(first, 'SIGKILL');
    await launcher.waitForLog(launcherSaid(/nats exited \(signal SIGKILL\) after .+; restarting in 1 s \(restart 1\)$/));
    const second = pidFrom(
      await launcher.waitForLog((line) => launcherSaid(/started nats \(pid \d+\)/)(line) && pidFrom(line) !== first),
    );
    await launcher.waitForLog((line) => line.text.startsWith('[nats]') && line.text.includes(`[${second}]`) && line.text.endsWith('Server is ready'));

    assert.equal(await launcher.stop('SIGTERM'), 0, launcher.output());
    assert.equal(alive(second), false, 'nats-server outlived the launcher');
    assert.ok(indexOf(launcher, /^\[launcher\]\s+stopping nats$/) < indexOf(launcher, /^\[launcher\]\s+stopped$/));
  });

  it('a launcher killed with -9 leaves nothing behind: its services stop by themselves, and the next launcher stops its nats-server first (#20)', { skip: noBinary }, async () => {
    const dir = await dataDir();
    const port = await freePort();
    const env = { NATS_URL: undefined, AUTH: '0', NATS_PORT: String(port), NODES: '1', CONTROLLERS: '1', DRIVER: 'sim', APISERVER_PORT: '0', DATA_DIR: dir };
    const first = spawnService('launcher', LAUNCHER, env);
    const pids = new Map<string, number>();
    for (const name of ['nats', 'controller-1', 'node-1']) {
      pids.set(name, pidFrom(await first.waitForLog(launcherSaid(new RegExp(`started ${name} \\(pid \\d+\\)`)), { timeoutMs: 30_000 })));
    }
    await first.waitForLog((line) => line.text.startsWith('[node-1]') && line.text.includes('"phase":"live"'), { timeoutMs: 30_000 });
    await first.kill9();
    await eventually(() => {
      assert.equal(running(pids.get('controller-1')!), false, 'the controller outlived its launcher');
      assert.equal(running(pids.get('node-1')!), false, 'the agent outlived its launcher');
    }, { timeoutMs: 15_000, message: 'the services never noticed their launcher was gone' });
    // nats-server cannot watch its launcher; it usually runs on (unless a log line to its broken
    // output pipe killed it with SIGPIPE), and then the next launcher must stop it first.
    const natsLeft = running(pids.get('nats')!);

    const second = spawnService('launcher', LAUNCHER, { ...env, NODES: '0', CONTROLLERS: '0' });
    try {
      if (natsLeft) await second.waitForLog(launcherSaid(new RegExp(`stopped what an earlier launcher left running: nats \\(pid ${pids.get('nats')}\\)`)), { timeoutMs: 15_000 });
      assert.equal(running(pids.get('nats')!), false);
      await second.waitForLog(launcherSaid(new RegExp(`nats-server is ready at nats://127\\.0\\.0\\.1:${port}$`)), { timeoutMs: 20_000 });
    } finally {
      assert.equal(await second.stop('SIGTERM'), 0, second.output());
    }
    assert.equal(existsSync(join(dir, 'launcher-children.json')), false, 'a clean stop leaves no ledger');
  });

  it('uses NATS_URL and starts no server when it is set', async () => {
    const nats = await startNats();
    try {
      const launcher = spawnService('launcher', LAUNCHER, {
        NATS_URL: nats.url,
        NODES: '0',
        CONTROLLERS: '0',
        DATA_DIR: await dataDir(),
      });
      await launcher.waitForLog((line) => line.text.includes(`NATS:         ${nats.url} (from NATS_URL; no server started)`));
      await launcher.waitForLog((line) => line.text.includes('stop:'));
      assert.equal(await launcher.stop('SIGINT'), 0, launcher.output());
      assert.equal(launcher.lines().some((line) => line.text.startsWith('[nats]')), false, launcher.output());
    } finally {
      await nats.stop();
    }
  });

  it('refuses bad settings, naming each, and starts nothing', async () => {
    const launcher = spawnService('launcher', LAUNCHER, { NODES: 'many', DRIVER: 'docker', DATA_DIR: await dataDir() });
    const status = await launcher.exited;
    assert.equal(status.code, 1);
    assert.deepEqual(
      launcher.lines().map((line) => [line.stream, line.text]),
      [
        ['stderr', 'local-cluster: bad settings:'],
        ['stderr', '  NODES="many": expected a whole number from 0 to 1000'],
        ['stderr', '  DRIVER="docker": expected one of process, sim'],
      ],
    );
  });

  const servicesMissing = ['dist/services/controller/main.js', 'dist/services/agent/main.js', 'bin/dsctl.js'].filter(
    (file) => !existsSync(join(REPO_ROOT, file)),
  );
  const notBuilt = servicesMissing.length > 0 ? `not built yet: ${servicesMissing.join(', ')}` : false;
  if (notBuilt !== false) console.log(`skipping the full-cluster test: ${notBuilt}`);

  it('starts a controller and two agents that register (credentials on by default, dsctl finds them through the bus context), and stops agents, then controllers, then nats', { skip: notBuilt || noBinary }, async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const dir = await dataDir();
    const launcher = spawnService('launcher', LAUNCHER, {
      NATS_URL: undefined,
      AUTH: undefined,
      NATS_PORT: String(port),
      NODES: '2',
      CONTROLLERS: '1',
      DRIVER: 'sim',
      APISERVER_PORT: '0',
      DATA_DIR: dir,
    });
    try {
      for (const name of ['controller-1', 'node-1', 'node-2']) {
        await launcher.waitForLog((line) => line.text.startsWith(`[${name}]`), { message: `output from ${name}` });
      }
      const contextFile = join(dir, 'context.json');
      const context = JSON.parse(await readFile(contextFile, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(context, {
        apiVersion: 'daemonset-js.io/v1',
        kind: 'BusContext',
        server: url,
        creds: join(dir, 'auth', 'admin.creds'),
        writtenBy: `npm start (DATA_DIR ${dir})`,
      });
      assert.equal((await stat(contextFile)).mode & 0o777, 0o600);
      const refused = await runCli(['get', 'nodes'], { NATS_URL: url, DSCTL_CONTEXT: undefined });
      assert.equal(refused.code, 1, 'without credentials the bus refuses dsctl');
      assert.match(refused.stderr, /authorization violation/);
      await eventually(
        async () => {
          const result = await runCli(['get', 'nodes', '-o', 'json'], { NATS_URL: undefined, NATS_CREDS: undefined, DSCTL_CONTEXT: contextFile });
          assert.equal(result.code, 0, result.stderr);
          const list = JSON.parse(result.stdout) as { items: Array<{ metadata: { name: string } }> };
          assert.deepEqual(list.items.map((node) => node.metadata.name).sort(), ['node-1', 'node-2']);
        },
        { timeoutMs: 30_000, intervalMs: 500, message: 'dsctl get nodes lists node-1 and node-2' },
      );
    } finally {
      assert.equal(await launcher.stop('SIGTERM'), 0, launcher.output());
    }
    const agents = indexOf(launcher, /^\[launcher\]\s+stopping node-1, node-2$/);
    const controllers = indexOf(launcher, /^\[launcher\]\s+stopping controller-1$/);
    const nats = indexOf(launcher, /^\[launcher\]\s+stopping nats$/);
    assert.ok(agents < controllers && controllers < nats, launcher.output());
    assert.equal(launcher.lines().at(-1)?.text.replace(/\s+/g, ' '), '[launcher] stopped');
  });
});
