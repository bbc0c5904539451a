// `rollout status`: fold the log once up to now (from the newest usable snapshot, as loadState
// does), then keep folding it live (one ordered consumer, no re-reads) and print kubectl's DaemonSetStatusViewer message whenever it changes,
// until the rollout is done, the DaemonSet goes away, or the timeout passes.

import type { NatsConnection } from '@nats-io/transport-node';
import { evolve, skipPosition } from '../../../libs/core/evolve.js';
import { dsKey, initialState, type DsRecord, type State } from '../../../libs/core/state.js';
import { openLogReader } from '../../../libs/nats/log-reader.js';
import { loadSnapshot } from '../../../libs/nats/snapshots.js';
import { readTopology } from '../../../libs/nats/topology.js';
import { CliError, notFound } from '../errors.js';
import { daemonSetStatusView } from './status-viewer.js';

export interface FollowStatusOptions {
  readonly nc: NatsConnection;
  readonly namespace: string;
  readonly name: string;
  /** Give up after this long; 0 waits forever (kubectl's --timeout=0). */
  readonly timeoutMs: number;
  /** false: print the current status once and stop (kubectl's --watch=false). */
  readonly watch: boolean;
  /** Receives each message, without a newline. */
  readonly write: (line: string) => void;
}

export const TIMED_OUT = 'error: timed out waiting for the condition';

/** A background-deleted DaemonSet is gone for readers at once (as context.visible() has it). */
function visibleDs(state: State, namespace: string, name: string): DsRecord | undefined {
  const ds = state.daemonSets.get(dsKey(namespace, name));
  return ds && ds.deletion?.propagation !== 'background' ? ds : undefined;
}

/** Resolves when the rollout is complete (or once, without --watch); throws a CliError otherwise. */
export async function followRolloutStatus(opts: FollowStatusOptions): Promise<void> {
  const settings = await readTopology(opts.nc);
  if (!settings) throw notFound('daemonsets.apps', opts.name);
  const snap = await loadSnapshot(opts.nc, settings.slots);
  const state = snap.found ? snap.state : initialState();
  let uid: string | undefined;
  let live = false;
  let lastMessage: string | undefined;
  let settle!: { resolve: () => void; reject: (err: CliError) => void };
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  // Evaluates the state as folded so far: kubectl's watch callback, once per change of message.
  const check = (): void => {
    const ds = visibleDs(state, opts.namespace, opts.name);
    if (!ds || (uid !== undefined && ds.uid !== uid)) {
      settle.reject(uid === undefined ? notFound('daemonsets.apps', opts.name) : new CliError('error: object has been deleted'));
      return;
    }
    uid = ds.uid;
    const view = daemonSetStatusView(ds);
    if (view.kind === 'error') {
      settle.reject(new CliError(`error: ${view.message}`));
      return;
    }
    if (view.message !== lastMessage) {
      lastMessage = view.message;
      opts.write(view.message);
    }
    if (view.done || !opts.watch) settle.resolve();
  };

  const reader = await openLogReader({
    nc: opts.nc,
    fromSeq: snap.found ? snap.data.seq + 1 : 1,
    onEnvelope: (env) => {
      evolve(state, env, { slots: settings.slots });
      if (live) check();
    },
    onInvalid: (msg) => {
      skipPosition(state, msg.seq);
    },
  });
  // A reader that ends on its own (the connection closed) would otherwise leave us waiting.
  void reader.done.then(() => settle.reject(new CliError('error: the log stopped being readable before the rollout finished')));
  const timer =
    opts.timeoutMs > 0 ? setTimeout(() => settle.reject(new CliError(TIMED_OUT)), opts.timeoutMs) : undefined;
  try {
    await Promise.race([
      reader.caughtUp.then(() => {
        live = true;
        check();
      }),
      finished,
    ]);
    await finished;
  } finally {
    if (timer) clearTimeout(timer);
    await reader.stop();
  }
}
