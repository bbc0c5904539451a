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
    assert.deepEqual(resolved.stdout.trim().split('\n').sort(), ['agent-1', 'agent-2', 'agent-3', 'controller', 'nats']);
  });

  it('has nats, a controller and three agents', () => {
    const services = loadCompose();
    assert.deepEqual(Object.keys(services).sort(), ['agent-1', 'agent-2', 'agent-3', 'controller', 'nats']);
    assert.match(services['nats']?.image ?? '', /^nats:2\.9/);
    const natsCommand = services['nats']?.command;
    assert.ok(Array.isArray(natsCommand) && natsCommand.includes('-js'), 'nats runs without -js');
    for (const name of ['controller', 'agent-1', 'agent-2', 'agent-3']) {
      const service = services[name];
      assert.equal(service?.restart, 'unless-stopped', `${name}: restart`);
      assert.ok(JSON.stringify(service?.depends_on ?? {}).includes('nats'), `${name} does not depend on nats`);
    }
    for (const i of [1, 2, 3]) {
      const env = environmentOf(services[`agent-${i}`] ?? {});
      assert.deepEqual(
        [env['NODE_NAME'], env['DRIVER'], env['DATA_DIR'], env['NATS_URL']],
        [`node-${i}`, 'sim', '/data/agent', 'nats://nats:4222'],
      );
    }
    assert.equal(environmentOf(services['controller'] ?? {})['CONTROLLER_ID'], 'controller-1');
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
        const natsHost = new URL(env['NATS_URL'] ?? 'nats://missing').hostname;
        assert.ok(natsHost in services, `${name}: NATS_URL points at ${natsHost}, which is not a service`);
      });
    }
  });

  it("the Dockerfile's default command is the controller", () => {
    assert.deepEqual(dockerfileCmd(), ['node', 'dist/services/controller/main.js']);
  });
});
