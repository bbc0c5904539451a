// Reading the whole log of a test server, for assertions over what was written (invariants).

import { connect } from '@nats-io/transport-node';
import type { Envelope } from '../../libs/events/types.js';
import { openLogReader } from '../../libs/nats/log-reader.js';

export async function readLog(url: string): Promise<Envelope[]> {
  const nc = await connect({ servers: url });
  try {
    const out: Envelope[] = [];
    const reader = await openLogReader({ nc, onEnvelope: (env) => out.push(env) });
    await reader.caughtUp;
    await reader.stop();
    return out;
  } finally {
    await nc.close();
  }
}

/** PodCreate commands in the log, as `node → pod names`. */
export function createsByNode(log: readonly Envelope[], dsName?: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { event } of log) {
    if (event.type !== 'PodCreate' || (dsName && event.data.ds.name !== dsName)) continue;
    const list = out.get(event.data.node) ?? [];
    list.push(event.data.pod.name);
    out.set(event.data.node, list);
  }
  return out;
}
