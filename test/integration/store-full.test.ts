// Regression (issue 19, finding 6): a full JetStream store. A nats-server whose file store is
// limited to 1 MB (jetstream { max_file_store }), filled with padding in the dead-letter stream
// until the next write crosses the limit. Then: a refused publish says what is full and what to
// do (StoreFullError); a flood of such warnings is one line per class per interval, with a count
// and without stacks; and a multi-document `dsctl apply` reports what happened to each document.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { lastSpec } from '../../services/cli/apply.js';
import { throttledBusError } from '../../libs/nats/bus-errors.js';
import { publishEvent } from '../../libs/nats/publish.js';
import { StoreFullError } from '../../libs/nats/store-full.js';
import { managerOf } from '../../libs/nats/subject-reads.js';
import { ensureTopology } from '../../libs/nats/topology.js';
import { createRootLogger } from '../../libs/runtime/logger.js';
import { DEAD_LETTER_STREAM, dsSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { EVENT_SAMPLES } from '../support/event-samples.js';
import { eventually } from '../support/eventually.js';
import { ownNatsServerUnavailable, startNats, type TestNats } from '../support/nats-server.js';
import { runCli } from '../support/processes.js';
import { tempDir } from '../support/temp-dir.js';

const skip = ownNatsServerUnavailable();
const LIMIT_BYTES = 1024 * 1024;
const PAD_BYTES = 4096;

/** The bytes the server counts against max_file_store (one account here: the account's storage). */
async function used(jsm: JetStreamManager): Promise<number> {
  return (await jsm.getAccountInfo()).storage;
}

/** Pads the dead-letter stream until the store is just under its limit: the next large write crosses it. */
async function fillToJustUnder(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
  const js = jetstream(nc);
  const pad = new Uint8Array(PAD_BYTES);
  for (let i = 0; ; i++) {
    try {
      await js.publish(`dlq.padding.${i}`, pad);
    } catch {
      break; // over the limit: the store refuses now
    }
  }
  // Give back just enough to be under the limit again.
  const info = await jsm.streams.info(DEAD_LETTER_STREAM);
  const perMsg = info.state.bytes / info.state.messages;
  const over = (await used(jsm)) - LIMIT_BYTES;
  await jsm.streams.purge(DEAD_LETTER_STREAM, { keep: info.state.messages - (Math.floor(over / perMsg) + 1) });
  const left = LIMIT_BYTES - (await used(jsm));
  assert.ok(left > 0 && left < 2 * PAD_BYTES, `store left with ${left} bytes`);
}

/** Fills the store past its limit: every write is refused from now on. */
async function fillUp(nc: NatsConnection): Promise<void> {
  const js = jetstream(nc);
  const pad = new Uint8Array(PAD_BYTES);
  for (let i = 0; ; i++) {
    try {
      await js.publish(`dlq.full.${i}`, pad);
    } catch {
      return;
    }
  }
}

const manifest = (name: string, annotationBytes = 0): string => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ${name}
  namespace: default${annotationBytes > 0 ? `\n  annotations: { note: "${'x'.repeat(annotationBytes)}" }` : ''}
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { containers: [ { name: c, image: img } ] }
`;

describe('a full JetStream store', { skip }, () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let dir: string;

  before(async () => {
    nats = await startNats({ configText: 'jetstream { max_file_store: 1MB }\n' });
    nc = await connect({ servers: nats.url });
    await ensureTopology(nc, { slots: 4 });
    jsm = await managerOf(nc);
    dir = await tempDir('store-full-');
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('dsctl apply of three documents: the first lands, the second is refused with what is full and what to do, the third is not attempted; exit 1', async () => {
    await fillToJustUnder(nc, jsm);
    const file = join(dir, 'multi.yaml');
    // a is large enough to take the store over its limit; b and c are small.
    await writeFile(file, [manifest('a', 3 * PAD_BYTES), manifest('b'), manifest('c')].join('---\n'));
    const r = await runCli(['apply', '-f', file], { NATS_URL: nats.url });
    assert.equal(r.code, 1, r.stderr);
    // As kubectl: what landed on stdout; what did not, and why, on stderr.
    assert.equal(r.stdout, 'daemonset.apps/a created\n');
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['daemonset.apps/b: not applied', 'daemonset.apps/c: not applied (an earlier document failed)'], r.stderr);
    assert.equal(lines.length, 3, r.stderr);
    const error = lines[2]!;
    assert.match(error, /^error: daemonset\.apps\/b not applied: JetStream refused to store a message on s\.\d+\.ds\.default\.b \(stream DS_LOG\): insufficient resources \(10023\): the server's JetStream store is full/);
    assert.match(error, /max_file_store/);
    assert.match(error, /largest streams: DS_DLQ /);
    assert.match(error, /To go on: free space on the server/);
    // What the report says is what the log holds.
    const landed = async (name: string): Promise<boolean> => (await lastSpec(jsm, dsSubject(dsSlot('default', name, 4), 'default', name))) !== undefined;
    assert.deepEqual([await landed('a'), await landed('b'), await landed('c')], [true, false, false]);
  });

  it('a refused publish is a StoreFullError that names the stream, how full the account is, and what to do', async () => {
    await fillUp(nc);
    const err = await publishEvent(jetstream(nc), { subject: 'g.node.n1', event: EVENT_SAMPLES.NodeRegistered }).then(
      () => assert.fail('the full store took the write'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreFullError, String(err));
    assert.equal(err.limit, 'server');
    assert.equal(err.code, 10023);
    assert.equal(err.usage.stream?.name, 'DS_LOG');
    assert.ok((err.usage.accountBytes ?? 0) > LIMIT_BYTES, JSON.stringify(err.usage));
    assert.equal(err.usage.accountLimitBytes, -1);
    assert.match(err.message, /this account stores 1(\.\d)? MiB, with no account limit of its own, so the server's max_file_store, or its disk, is what is reached/);
  });

  it('a flood of refused writes logs one line with the reason and no stack, then one line with the count', async () => {
    await fillUp(nc);
    const out: string[] = [];
    const log = createRootLogger('test', 'info', {}, { throttle: { classify: throttledBusError, everyMs: 300 }, destination: { write: (s: string) => void out.push(s) } });
    const js = jetstream(nc);
    const refusals = 100;
    await Promise.all(
      Array.from({ length: refusals }, (_, i) =>
        publishEvent(js, { subject: `g.node.n${i}`, event: EVENT_SAMPLES.NodeRegistered }).catch((err: unknown) => log.warn({ err, i }, 'publish failed')),
      ),
    );
    await eventually(() => assert.ok(out.some((s) => s.includes('repeated')), out.join('')), { timeoutMs: 5_000 });
    const lines = out.map((s) => JSON.parse(s) as Record<string, unknown>);
    assert.equal(lines.length, 2, out.join(''));
    const [first, summary] = lines as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(first['msg'], 'publish failed');
    assert.equal(first['errClass'], 'store-full');
    const err = first['err'] as Record<string, unknown>;
    assert.equal(err['type'], 'StoreFullError');
    assert.match(String(err['message']), /max_file_store/);
    assert.equal(out.some((s) => s.includes('"stack"')), false, out.join(''));
    assert.deepEqual(
      { msg: summary['msg'], errClass: summary['errClass'], count: summary['count'], messages: summary['messages'] },
      { msg: 'errors of one class repeated (rate-limited)', errClass: 'store-full', count: refusals - 1, messages: { 'publish failed': refusals - 1 } },
    );
  });
});
