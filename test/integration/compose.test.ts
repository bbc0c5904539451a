import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/processes.js';

const execFileAsync = promisify(execFile);
const COMPOSE_FILE = join(REPO_ROOT, 'compose.yaml');

interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[] | string;
  readonly environment?: Readonly<Record<string, string | number | boolean | null>> | readonly string[];
  readonly depends_on?: unknown;
  readonly restart?: string;
  readonly volumes?: readonly string[];
}

const SERVICES = ['agent-1', 'agent-2', 'agent-3', 'apiserver', 'auth-init', 'controller-1', 'controller-2', 'nats-1', 'nats-2', 'nats-3'];
const NATS = ['nats-1', 'nats-2', 'nats-3'] as const;
const ALL_NATS_URLS = 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222';

/** The value after `flag` in a command line. */
function flagValue(command: readonly string[], flag: string): string | undefined {
  const at = command.indexOf(flag);
  return at < 0 ? undefined : command[at + 1];
}

function loadCompose(): Readonly<Record<string, ComposeService>> {
  const doc: unknown = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true });
  assert.ok(typeof doc === 'object' && doc !== null && 'services' in doc, 'compose.yaml has no services');
  return doc.services as Record<string, ComposeService>;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

/** The `CMD [...]` of the Dockerfile's last stage: what a service without `command` runs. */
function dockerfileCmd(): string[] {
  const lines = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').split('\n');
  const cmd = lines.filter((line) => line.startsWith('CMD ')).at(-1);
  assert.ok(cmd !== undefined, 'the Dockerfile has no CMD');
  const parsed: unknown = JSON.parse(cmd.slice('CMD '.length));
  assert.ok(Array.isArray(parsed), 'the Dockerfile CMD is not in exec (JSON array) form');
  return parsed.map(String);
}

/** Services built from this repository run `node dist/services/<svc>/main.js`. */
function serviceEntry(command: readonly string[]): { readonly script: string; readonly svc: string } {
  assert.equal(command[0], 'node', `the command ${JSON.stringify(command)} does not start node`);
  const script = command[1] ?? '';
  const match = /^dist\/services\/([a-z0-9-]+)\/main\.js$/.exec(script);
  assert.ok(match?.[1] !== undefined, `the command runs ${script}, not dist/services/<svc>/main.js`);
  return { script, svc: match[1] };
}

/** The variables a service reads, from the ENV_VARS its compiled config module exports. */
async function envVarsOf(svc: string): Promise<readonly string[]> {
  const source = `services/${svc}/config.ts`;
  const compiled = join(REPO_ROOT, 'dist', 'services', svc, 'config.js');
  assert.ok(
    existsSync(compiled),
    `${source} is missing (or not built): each service must export ENV_VARS, the environment variables it reads`,
  );
  const mod: Record<string, unknown> = await import(pathToFileURL(compiled).href);
  const vars = mod['ENV_VARS'];
  assert.ok(
    Array.isArray(vars) && vars.every((name) => typeof name === 'string'),
    `${source} does not export ENV_VARS: readonly string[] (the environment variables the service reads)`,
  );
  return vars as readonly string[];
}

describe('compose.yaml', () => {
  it('is valid for docker-compose (docker-compose config -q)', async (t) => {
    const binary = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((path) => existsSync(path));
    const which = binary ?? (await execFileAsync('sh', ['-c', 'command -v docker-compose']).then((r) => r.stdout.trim(), () => ''));
    if (which === '') {
      const reason = 'docker-compose is not installed (bash scripts/setup.sh installs it)';
      console.log(`skipped: ${reason}`);
      t.skip(reason);
      return;
    }
    const quiet = await execFileAsync(which, ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: REPO_ROOT });
    assert.equal(quiet.stderr, '');
    // docker-compose's own view of the file (anchors and merge keys resolved) has the services we expect.
    const resolved = await execFileAsync(which, ['-f', COMPOSE_FILE, 'config', '--services'], { cwd: REPO_ROOT });
    assert.deepEqual(resolved.stdout.trim().split('\n').sort(), SERVICES);
  });

  it('has a 3-server NATS cluster, two controllers, the API facade and three agents', () => {
    const services = loadCompose();
    assert.deepEqual(Object.keys(services).sort(), SERVICES);
    for (const name of [...NATS, 'controller-1', 'controller-2', 'apiserver', 'agent-1', 'agent-2', 'agent-3']) {
      assert.equal(services[name]?.restart, 'unless-stopped', `${name}: restart`);
    }
    for (const name of ['controller-1', 'controller-2', 'agent-1', 'agent-2', 'agent-3']) {
      const dependsOn = Object.keys((services[name]?.depends_on ?? {}) as Record<string, unknown>).sort();
      assert.deepEqual(dependsOn, [...NATS], `${name} waits for every NATS server`);
    }
    for (const i of [1, 2, 3]) {
      const env = environmentOf(services[`agent-${i}`] ?? {});
      assert.deepEqual(
        [env['NODE_NAME'], env['DRIVER'], env['DATA_DIR'], env['NATS_URL']],
        [`node-${i}`, 'sim', '/data/agent', ALL_NATS_URLS],
      );
    }
  });

  it('has credentials always on: auth-init writes them first, every server reads auth.conf, every process its own .creds', () => {
    const services = loadCompose();
    assert.deepEqual((services['auth-init']?.['command'] as string[]).slice(1), ['bin/dsctl.js', 'auth', 'init', '/auth', '--nodes', 'node-1,node-2,node-3']);
    for (const name of NATS) {
      const service = services[name] ?? {};
      assert.deepEqual((service['command'] as string[]).slice(0, 2), ['-c', '/auth/auth.conf'], `${name} reads the authorization block`);
      assert.deepEqual(service['depends_on'], { 'auth-init': { condition: 'service_completed_successfully' } }, `${name} waits for the credentials`);
    }
    const creds = Object.fromEntries(
      ['controller-1', 'controller-2', 'apiserver', 'agent-1', 'agent-2', 'agent-3'].map((name) => [name, environmentOf(services[name] ?? {})['NATS_CREDS']]),
    );
    assert.deepEqual(creds, {
      'controller-1': '/auth/controller.creds',
      'controller-2': '/auth/controller.creds',
      apiserver: '/auth/apiserver.creds',
      'agent-1': '/auth/nodes/node-1.creds',
      'agent-2': '/auth/nodes/node-2.creds',
      'agent-3': '/auth/nodes/node-3.creds',
    });
  });

  it('clusters nats-1..3 with JetStream: one name each, one cluster name, routes to the two others, a volume each', () => {
    const services = loadCompose();
    const commands = NATS.map((name) => {
      const command = services[name]?.command;
      assert.ok(Array.isArray(command), `${name}: write command in exec (array) form`);
      assert.match(services[name]?.image ?? '', /^nats:2\.9/, `${name}: image`);
      return command as readonly string[];
    });
    assert.deepEqual(
      commands.map((command) => [command.includes('-js'), flagValue(command, '--server_name'), flagValue(command, '-sd')]),
      [[true, 'nats-1', '/data'], [true, 'nats-2', '/data'], [true, 'nats-3', '/data']],
    );
    assert.deepEqual(commands.map((command) => flagValue(command, '--cluster_name')), ['daemonset', 'daemonset', 'daemonset']);
    assert.deepEqual(commands.map((command) => flagValue(command, '--cluster')), Array(3).fill('nats://0.0.0.0:6222'));
    assert.deepEqual(
      commands.map((command) => flagValue(command, '--routes')?.split(',').sort()),
      [
        ['nats://nats-2:6222', 'nats://nats-3:6222'],
        ['nats://nats-1:6222', 'nats://nats-3:6222'],
        ['nats://nats-1:6222', 'nats://nats-2:6222'],
      ],
    );
    assert.deepEqual(NATS.map((name) => services[name]?.volumes), [['nats-1-data:/data', 'auth:/auth:ro'], ['nats-2-data:/data', 'auth:/auth:ro'], ['nats-3-data:/data', 'auth:/auth:ro']]);
  });

  it('runs two controllers with distinct ids, R3 streams and every NATS URL', () => {
    const services = loadCompose();
    assert.deepEqual(
      ['controller-1', 'controller-2'].map((name) => {
        const env = environmentOf(services[name] ?? {});
        return [env['CONTROLLER_ID'], env['STREAM_REPLICAS'], env['NATS_URL']];
      }),
      [
        ['controller-1', '3', ALL_NATS_URLS],
        ['controller-2', '3', ALL_NATS_URLS],
      ],
    );
  });

  describe('every service built here runs a built file and sets only variables it reads', () => {
    const services = loadCompose();
    for (const [name, service] of Object.entries(services)) {
      if (service.build === undefined) continue;
      it(name, async () => {
        const command = service.command ?? dockerfileCmd();
        assert.ok(Array.isArray(command), `${name}: write command in exec (array) form`);
        const { script, svc } = serviceEntry(command);
        assert.ok(existsSync(join(REPO_ROOT, script)), `${name}: ${script} does not exist after the build`);
        const reads = new Set(await envVarsOf(svc));
        const env = environmentOf(service);
        const unread = Object.keys(env).filter((key) => !reads.has(key));
        assert.deepEqual(
          unread,
          [],
          `${name} sets ${unread.join(', ')}, which services/${svc} does not read (its ENV_VARS: ${[...reads].join(', ')})`,
        );
        for (const url of (env['NATS_URL'] ?? 'nats://missing').split(',')) {
          const natsHost = new URL(url.trim()).hostname;
          assert.ok(natsHost in services, `${name}: NATS_URL names ${natsHost}, which is not a service`);
        }
      });
    }
  });

  it("the Dockerfile's default command is the controller", () => {
    assert.deepEqual(dockerfileCmd(), ['node', 'dist/services/controller/main.js']);
  });
});
