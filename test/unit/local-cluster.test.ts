import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LOCAL_CLUSTER_DEFAULTS,
  RESTART_POLICY,
  STOP_ORDER,
  childSpecs,
  linePrefixer,
  missingNatsServerHelp,
  natsServerArgs,
  nextCrashCount,
  parseLocalClusterConfig,
  restartDelayMs,
} from '../../scripts/local-cluster.js';
import type { LocalClusterConfig } from '../../scripts/local-cluster.js';

function config(env: Record<string, string>): LocalClusterConfig {
  const result = parseLocalClusterConfig(env, '/work/repo');
  if (!result.ok) assert.fail(`unexpected config errors: ${result.errors.join('; ')}`);
  return result.config;
}

describe('parseLocalClusterConfig', () => {
  it('fills every default when nothing is set', () => {
    assert.deepEqual(config({}), {
      natsUrl: 'nats://127.0.0.1:4222',
      embeddedNats: true,
      nodes: 3,
      controllers: 1,
      natsPort: 4222,
      natsMonitorPort: 8222,
      dataDir: '/work/repo/.data',
      driver: 'process',
      logLevel: undefined,
    });
  });

  it('returns a frozen object', () => {
    assert.equal(Object.isFrozen(config({})), true);
  });

  it('reads every variable', () => {
    assert.deepEqual(
      config({ NODES: '5', CONTROLLERS: '2', NATS_PORT: '5222', DATA_DIR: '/tmp/x', DRIVER: 'sim', LOG_LEVEL: 'debug' }),
      {
        natsUrl: 'nats://127.0.0.1:5222',
        embeddedNats: true,
        nodes: 5,
        controllers: 2,
        natsPort: 5222,
        natsMonitorPort: 9222,
        dataDir: '/tmp/x',
        driver: 'sim',
        logLevel: 'debug',
      },
    );
  });

  it('uses NATS_URL and starts no server when it is set', () => {
    const parsed = config({ NATS_URL: 'nats://bus.example:4333' });
    assert.equal(parsed.natsUrl, 'nats://bus.example:4333');
    assert.equal(parsed.embeddedNats, false);
  });

  it('resolves a relative DATA_DIR against the working folder', () => {
    assert.equal(config({ DATA_DIR: 'state/here' }).dataDir, '/work/repo/state/here');
  });

  it('treats empty and blank values as unset', () => {
    assert.deepEqual(config({ NODES: '', NATS_URL: '  ', DRIVER: '' }), config({}));
  });

  it('accepts zero agents and zero controllers', () => {
    const parsed = config({ NODES: '0', CONTROLLERS: '0' });
    assert.deepEqual([parsed.nodes, parsed.controllers], [0, 0]);
  });

  it('reports every bad variable at once', () => {
    const result = parseLocalClusterConfig(
      { NODES: '-1', CONTROLLERS: 'two', NATS_PORT: '70000', DRIVER: 'docker', LOG_LEVEL: 'loud' },
      '/work/repo',
    );
    assert.deepEqual(result, {
      ok: false,
      errors: [
        'NODES="-1": expected a whole number from 0 to 1000',
        'CONTROLLERS="two": expected a whole number from 0 to 100',
        'NATS_PORT="70000": expected a whole number from 1 to 61535',
        'DRIVER="docker": expected one of process, sim',
        'LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent',
      ],
    });
  });

  const badNumbers: ReadonlyArray<readonly [string, string]> = [
    ['NODES', '1.5'],
    ['NODES', '3 '.repeat(2)],
    ['NODES', '1e3'],
    ['NATS_PORT', '0'],
    ['NATS_PORT', '61536'],
    ['CONTROLLERS', '0x1'],
  ];
  for (const [name, value] of badNumbers) {
    it(`refuses ${name}=${JSON.stringify(value)}`, () => {
      const result = parseLocalClusterConfig({ [name]: value }, '/work/repo');
      assert.equal(result.ok, false);
      assert.equal(result.ok ? '' : result.errors[0]?.split(':')[0], `${name}=${JSON.stringify(value.trim())}`);
    });
  }
});

describe('restart back-off', () => {
  const delays: ReadonlyArray<readonly [number, number]> = [
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [4, 8_000],
    [5, 16_000],
    [6, 30_000],
    [7, 30_000],
    [100, 30_000],
    [5_000, 30_000],
  ];
  for (const [crashes, expected] of delays) {
    it(`waits ${expected} ms after crash ${crashes}`, () => {
      assert.equal(restartDelayMs(crashes), expected);
    });
  }

  it('counts consecutive quick crashes', () => {
    assert.equal(nextCrashCount(0, 500), 1);
    assert.equal(nextCrashCount(3, 59_999), 4);
  });

  it('starts again from the first delay after 60 s up', () => {
    assert.equal(nextCrashCount(6, RESTART_POLICY.resetAfterMs), 1);
    assert.equal(restartDelayMs(nextCrashCount(6, 120_000)), 1_000);
  });

  it('follows a custom policy', () => {
    const policy = { initialDelayMs: 10, maxDelayMs: 25, resetAfterMs: 100 };
    assert.deepEqual([1, 2, 3, 4].map((n) => restartDelayMs(n, policy)), [10, 20, 25, 25]);
    assert.equal(nextCrashCount(2, 100, policy), 1);
  });
});

describe('linePrefixer', () => {
  const names = ['launcher', 'nats', 'controller-1', 'node-2'];

  it('pads every prefix to the widest name, plain when not a TTY', () => {
    const prefix = linePrefixer(names, false);
    assert.equal(prefix('nats', 'Server is ready'), '[nats]         Server is ready');
    assert.equal(prefix('controller-1', '{"msg":"live"}'), '[controller-1] {"msg":"live"}');
    assert.equal(prefix('node-2', ''), '[node-2]       ');
  });

  it('colours each name with its own ANSI colour', () => {
    const prefix = linePrefixer(names, true);
    assert.equal(prefix('launcher', 'hi'), '\u001b[36m[launcher]    \u001b[0m hi');
    assert.equal(prefix('nats', 'hi'), '\u001b[33m[nats]        \u001b[0m hi');
    assert.equal(prefix('node-2', 'hi'), '\u001b[35m[node-2]      \u001b[0m hi');
  });
});

describe('childSpecs', () => {
  const exe = { node: '/usr/bin/node', natsServer: '/usr/sbin/nats-server', distDir: '/repo/dist' };

  it('starts nats, then the controllers, then the agents, with their environment', () => {
    const specs = childSpecs(config({ NODES: '2', CONTROLLERS: '1', DATA_DIR: '/d', DRIVER: 'sim', LOG_LEVEL: 'warn' }), exe);
    assert.deepEqual(
      specs.map((spec) => [spec.name, spec.role, spec.command, spec.args.at(-1), spec.stopSignal]),
      [
        ['nats', 'nats', '/usr/sbin/nats-server', 'local', 'SIGINT'],
        ['controller-1', 'controller', '/usr/bin/node', '/repo/dist/services/controller/main.js', 'SIGTERM'],
        ['node-1', 'agent', '/usr/bin/node', '/repo/dist/services/agent/main.js', 'SIGTERM'],
        ['node-2', 'agent', '/usr/bin/node', '/repo/dist/services/agent/main.js', 'SIGTERM'],
      ],
    );
    assert.deepEqual(specs[1]?.env, { NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'warn', CONTROLLER_ID: 'controller-1' });
    assert.deepEqual(specs[3]?.env, {
      NATS_URL: 'nats://127.0.0.1:4222',
      LOG_LEVEL: 'warn',
      NODE_NAME: 'node-2',
      NODE_LABELS: '',
      DATA_DIR: '/d/agents/node-2',
      DRIVER: 'sim',
    });
    assert.deepEqual(specs.map((spec) => spec.dir), ['/d/nats', undefined, '/d/agents/node-1', '/d/agents/node-2']);
  });

  it('starts no server when NATS_URL is set, and passes that URL on', () => {
    const specs = childSpecs(config({ NATS_URL: 'nats://10.1.1.1:4222', NODES: '1' }), exe);
    assert.deepEqual(specs.map((spec) => spec.name), ['controller-1', 'node-1']);
    assert.deepEqual(specs.map((spec) => spec.env['NATS_URL']), ['nats://10.1.1.1:4222', 'nats://10.1.1.1:4222']);
    assert.equal('LOG_LEVEL' in (specs[0]?.env ?? {}), false);
  });

  it('gives nats-server its store, ports and name', () => {
    assert.deepEqual(natsServerArgs(config({ NATS_PORT: '5222', DATA_DIR: '/d' })), [
      '-js', '-sd', '/d/nats', '-p', '5222', '-a', '127.0.0.1', '-m', '9222', '-n', 'local',
    ]);
  });
});

describe('launcher constants', () => {
  it('stops agents, then controllers, then nats', () => {
    assert.deepEqual(STOP_ORDER, ['agent', 'controller', 'nats']);
  });

  it('has the documented defaults', () => {
    assert.deepEqual(
      { ...LOCAL_CLUSTER_DEFAULTS },
      { nodes: 3, controllers: 1, natsPort: 4222, monitorPortOffset: 4000, dataDir: './.data', driver: 'process' },
    );
  });

  it('tells how to get nats-server', () => {
    const help = missingNatsServerHelp();
    assert.match(help, /sudo apt-get install nats-server/);
    assert.match(help, /bash scripts\/setup\.sh/);
    assert.match(help, /releases/);
  });
});
