import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { after, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS_INSTALL_HINT, natsServerBinary, startNats, startNatsContainer } from '../support/nats-server.js';
import type { TestNats } from '../support/nats-server.js';

const sharedServer = process.env['NATS_URL'] !== undefined && process.env['NATS_URL'] !== '';
const SHARED_REASON = 'NATS_URL is set: the fixture hands out that server and starts none';

/** A stream name of our own, so the test can share a server. */
function streamName(label: string): string {
  return `FIXTURE_${label}_${process.pid}_${Date.now()}`;
}

describe('natsServerBinary', () => {
  it('finds an executable nats-server', () => {
    const binary = natsServerBinary();
    assert.ok(binary !== undefined, 'nats-server not found: apt-get install nats-server (or bash scripts/setup.sh)');
    assert.ok(isAbsolute(binary), binary);
    assert.match(binary, /\/nats-server$/);
  });
});

describe('startNats', () => {
  const started: TestNats[] = [];
  after(async () => {
    for (const server of started) await server.stop();
  });

  async function start(opts?: { jetstream?: boolean }): Promise<TestNats> {
    const server = await startNats(opts);
    started.push(server);
    return server;
  }

  it('starts a server where JetStream creates and deletes a stream', async () => {
    const server = await start();
    assert.equal(server.kind, sharedServer ? 'env' : 'process');
    if (server.kind === 'process') assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const name = streamName('CRUD');
      const info = await jsm.streams.add({ name, subjects: [`${name}.>`] });
      assert.equal(info.config.name, name);
      const ack = await jetstream(nc).publish(`${name}.a`, 'one');
      assert.deepEqual([ack.stream, ack.seq], [name, 1]);
      assert.equal(await jsm.streams.delete(name), true);
      const names = await jsm.streams.names().next();
      assert.equal(names.includes(name), false);
    } finally {
      await nc.close();
    }
  });

  it('stop() removes the temporary store', { skip: sharedServer ? SHARED_REASON : false }, async () => {
    const server = await startNats();
    const dir = server.storeDir;
    assert.ok(dir !== undefined && existsSync(dir), `store ${dir} missing while the server runs`);
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'STORED', subjects: ['stored.>'] });
    await nc.close();
    assert.deepEqual(await readdir(dir), ['jetstream']);
    await server.stop();
    assert.equal(existsSync(dir), false, `${dir} still exists after stop()`);
    await server.stop(); // a second stop is harmless
  });

  it('restart() kills the server and brings it back with its data', { skip: sharedServer ? SHARED_REASON : false }, async () => {
    const server = await start();
    assert.ok(server.restart !== undefined, 'a process server has restart()');
    const urlBefore = server.url;
    const before = await connect({ servers: server.url });
    const jsm = await jetstreamManager(before);
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await jetstream(before).publish('keep.a', 'hello');
    await before.close();

    await server.restart();

    assert.equal(server.url, urlBefore);
    const nc = await connect({ servers: server.url });
    try {
      const jsm2 = await jetstreamManager(nc);
      const info = await jsm2.streams.info('KEEP');
      assert.deepEqual([info.state.messages, info.state.first_seq, info.state.last_seq], [1, 1, 1]);
      const stored = await jsm2.streams.getMessage('KEEP', { seq: 1 });
      assert.equal(stored?.subject, 'keep.a');
      assert.equal(stored?.string(), 'hello');
    } finally {
      await nc.close();
    }
  });

  it('starts a server without JetStream when asked', { skip: sharedServer ? SHARED_REASON : false }, async () => {
    const server = await start({ jetstream: false });
    const nc = await connect({ servers: server.url });
    try {
      await assert.rejects(jetstreamManager(nc), /jetstream/i);
    } finally {
      await nc.close();
    }
  });

  it('hands out NATS_URL when it is set, and stop() leaves that server running', { skip: sharedServer ? SHARED_REASON : false }, async () => {
    const real = await start();
    const saved = process.env['NATS_URL'];
    process.env['NATS_URL'] = real.url;
    try {
      const fromEnv = await startNats();
      assert.deepEqual([fromEnv.kind, fromEnv.url, fromEnv.restart], ['env', real.url, undefined]);
      await fromEnv.stop();
      const nc = await connect({ servers: real.url });
      await nc.flush();
      await nc.close();
    } finally {
      if (saved === undefined) delete process.env['NATS_URL'];
      else process.env['NATS_URL'] = saved;
    }
  });
});

describe('startNatsContainer', () => {
  const dockerConfigured = process.env['DOCKER_HOST'] !== undefined || existsSync('/var/run/docker.sock');
  it(
    'says how to install nats-server when no Docker engine answers',
    { skip: dockerConfigured ? 'a Docker engine may answer here: the container would start' : false },
    async () => {
      await assert.rejects(startNatsContainer(), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.message, NATS_INSTALL_HINT);
        assert.match(error.message, /apt-get install nats-server/);
        assert.ok(error.cause instanceof Error, 'the runtime error is kept as cause');
        return true;
      });
    },
  );
});
