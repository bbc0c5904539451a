// The fleet's one command reader: a single ordered consumer over every command subject
// (nats-server 2.9 takes one filter per consumer), from the fleet's first registration on.
// Commands addressed to nodes this fleet does not host (other fleets, real agents) are skipped
// by their subject, before any decoding; the others are decoded, validated and checked for
// authorship exactly as the agent's log reader does, then handed over in log order.

import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Envelope, PodCommand } from '../../libs/events/types.js';
import { subjectNode } from '../../libs/nats/authorship.js';
import { decodeLogMessage } from '../../libs/nats/log-reader.js';
import { COMMAND_ALL_FILTER, LOG_STREAM } from '../../libs/topology/names.js';

export interface CommandFeedOptions {
  readonly nc: NatsConnection;
  /** First sequence to read: the first registration of the fleet. */
  readonly fromSeq: number;
  /** Whether the fleet hosts this node (decides before decoding). */
  readonly hosts: (node: string) => boolean;
  /** One command for a hosted node, in log order. Must not throw. */
  readonly onCommand: (node: string, env: Envelope<PodCommand>) => void;
  readonly log: Logger;
}

export interface CommandFeed {
  /** Last sequence delivered (ours or not). */
  lastSeq(): number;
  /** Commands delivered to hosted nodes so far. */
  delivered(): number;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export async function openCommandFeed(opts: CommandFeedOptions): Promise<CommandFeed> {
  const consumer = await jetstream(opts.nc).consumers.get(LOG_STREAM, {
    filter_subjects: COMMAND_ALL_FILTER,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, opts.fromSeq),
  });
  let last = opts.fromSeq - 1;
  let delivered = 0;
  const onMessage = (msg: JsMsg): void => {
    last = msg.seq;
    const node = subjectNode(msg.subject);
    if (node === undefined || !opts.hosts(node)) return;
    const r = decodeLogMessage(msg);
    if (!r.ok) {
      opts.log.warn({ node, seq: msg.seq, subject: msg.subject, reason: r.reason }, 'command set aside');
      return;
    }
    const e = r.env.event;
    if (e.type !== 'PodCreate' && e.type !== 'PodDelete') return;
    delivered++;
    opts.onCommand(node, { ...r.env, event: e });
  };
  const iter: ConsumerMessages = await consumer.consume({ callback: onMessage });
  const done = iter.closed().then(
    () => undefined,
    (err: unknown) => opts.log.error({ err }, 'command feed stopped'),
  );
  return {
    lastSeq: () => last,
    delivered: () => delivered,
    done,
    async stop(): Promise<void> {
      await iter.close().catch((err: unknown) => opts.log.warn({ err }, 'closing the command feed failed'));
      await done;
    },
  };
}
