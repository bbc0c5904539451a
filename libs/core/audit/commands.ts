// StaleEpochApplied and CommandAppliedTwice: every command with its epoch and what became of it.
//
// What the agent did with a command is observable only through its reports (services/agent):
// a create it acted on is followed by reports about that pod (PodStarted, PodReady, ...), a
// delete by PodDeleted, a refusal by CommandRejected naming the command id, and a command it
// ignored (a duplicate create of a pod it runs or has deleted) by nothing at all. The agent acts
// on its node's commands strictly in log order, one at a time.

import type { CommandRejected, Envelope, PodCommand, ShardAcquired } from '../../events/types.js';
import { dsKey, type State } from '../state.js';
import type { AuditBreak } from './types.js';
import { podOf } from './view.js';

interface StaleBy {
  readonly epoch: number;
  readonly seq: number;
  readonly what: string;
}

interface CommandInfo {
  readonly type: PodCommand['type'];
  readonly id: string;
  readonly seq: number;
  readonly epoch: number;
  readonly slot: number;
  readonly node: string;
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  /** The owning DaemonSet (`namespace/name`) when known. */
  readonly ds?: string;
  /** Set when the command's epoch was already superseded where it stands in the log. */
  readonly staleBy?: StaleBy;
  /** The report that shows the agent acted on it, and its type. */
  applied?: { readonly seq: number; readonly by: string };
}

/** A pod as its node's agent sees it (keyed by node and uid: the agent's view is per node, by uid). */
interface PodTrack {
  readonly node: string;
  /** 'none': no application seen yet; 'running': the agent acted on a create; 'gone': deleted, or its node came back as a new incarnation. */
  state: 'none' | 'running' | 'gone';
  /** Creates of this pod not yet acted on or refused, in log order. */
  pendingCreates: CommandInfo[];
  /** Deletes of this pod not yet answered, in log order (the agent answers each, in order). */
  pendingDeletes: CommandInfo[];
}

export interface CommandLedger {
  /** A PodCreate or PodDelete, before it is folded: its epoch is judged where it stands in the log. */
  issued(env: Envelope, cmd: PodCommand): void;
  /** An agent report about a pod (anything but CommandRejected and PodDeleted): the pod runs. */
  podReported(env: Envelope, node: string, uid: string): AuditBreak[];
  /** The agent deleted the pod: it answers the oldest delete of it not yet answered. */
  podDeleted(env: Envelope, node: string, uid: string): AuditBreak[];
  /** The agent refused a command: it is no longer waiting. */
  rejected(d: CommandRejected['data']): void;
  /** A controller took the slot: commands of older epochs for it are stale from here on. */
  shardAcquired(env: Envelope, d: ShardAcquired['data']): void;
  /** The node's agent starts over (new incarnation) or leaves: its pods are gone, its unseen commands never run. */
  nodeStartsOver(node: string): void;
}

/**
 * `state`: the folded state, read for the DaemonSet a delete's pod belongs to. Slots start at
 * the epochs it records (a state started from: what came before it is unknown).
 */
export function commandLedger(state: State): CommandLedger {
  // Epochs: the newest ShardAcquired per slot; the highest command epoch per node and slot (what its agent fences with).
  const shardEpochs = new Map<number, StaleBy>();
  const nodeEpochs = new Map<string, Map<number, StaleBy>>();
  // Commands and pods as agents act on them.
  const createsById = new Map<string, CommandInfo[]>();
  const tracks = new Map<string, PodTrack>();
  const tracksByNode = new Map<string, Set<string>>();

  for (const shard of state.shards.values()) shardEpochs.set(shard.slot, { epoch: shard.epoch, seq: state.seq, what: `ShardAcquired by ${shard.owner}, before the state started from` });

  const trackOf = (node: string, uid: string): PodTrack => {
    const key = `${node}\u0000${uid}`;
    let t = tracks.get(key);
    if (!t) {
      t = { node, state: 'none', pendingCreates: [], pendingDeletes: [] };
      tracks.set(key, t);
      let keys = tracksByNode.get(node);
      if (!keys) tracksByNode.set(node, (keys = new Set()));
      keys.add(key);
    }
    return t;
  };

  const recordCommand = (env: Envelope, cmd: PodCommand): CommandInfo => {
    const d = cmd.data;
    const shard = shardEpochs.get(d.slot);
    const seen = nodeEpochs.get(d.node)?.get(d.slot);
    const staleBy = shard && d.epoch < shard.epoch ? shard : seen && d.epoch < seen.epoch ? seen : undefined;
    let epochs = nodeEpochs.get(d.node);
    if (!epochs) nodeEpochs.set(d.node, (epochs = new Map()));
    if (!seen || d.epoch > seen.epoch) {
      epochs.set(d.slot, { epoch: d.epoch, seq: env.seq, what: `${cmd.type} ${d.id} (epoch ${d.epoch}) to node ${d.node}` });
    }
    let ds: string | undefined;
    let pod: { namespace: string; podName: string; podUid: string };
    if (cmd.type === 'PodCreate') {
      ds = dsKey(cmd.data.ds.namespace, cmd.data.ds.name);
      pod = { namespace: cmd.data.pod.namespace, podName: cmd.data.pod.name, podUid: cmd.data.pod.uid };
    } else {
      const target = podOf(state, cmd.data.namespace, cmd.data.podName, cmd.data.podUid);
      if (target?.owner) ds = dsKey(target.namespace, target.owner.name);
      pod = { namespace: cmd.data.namespace, podName: cmd.data.podName, podUid: cmd.data.podUid };
    }
    return {
      type: cmd.type,
      id: d.id,
      seq: env.seq,
      epoch: d.epoch,
      slot: d.slot,
      node: d.node,
      ...pod,
      ...(ds !== undefined ? { ds } : {}),
      ...(staleBy ? { staleBy } : {}),
    };
  };

  /** The agent acted on `cmd` (the report at `seq`, of type `by`): a stale epoch, or a create acted on twice, is a break. */
  const applied = (cmd: CommandInfo, seq: number, by: string): AuditBreak[] => {
    cmd.applied = { seq, by };
    const out: AuditBreak[] = [];
    const where = { ...(cmd.ds !== undefined ? { ds: cmd.ds } : {}), node: cmd.node };
    if (cmd.staleBy) {
      out.push({
        kind: 'StaleEpochApplied',
        ...where,
        seqs: [cmd.staleBy.seq, cmd.seq, seq],
        message:
          `${cmd.type} ${cmd.id} of epoch ${cmd.epoch} for pod ${cmd.podName} was acted on (${by} at seq ${seq}) ` +
          `although slot ${cmd.slot} had moved to epoch ${cmd.staleBy.epoch} at seq ${cmd.staleBy.seq} (${cmd.staleBy.what}): ` +
          'a deposed controller decided; the agent should have answered CommandRejected',
      });
    }
    if (cmd.type !== 'PodCreate') return out;
    const earlier = (createsById.get(cmd.id) ?? []).find((o) => o !== cmd && o.applied !== undefined);
    if (!earlier?.applied) return out;
    const samePod = earlier.podUid === cmd.podUid && earlier.node === cmd.node;
    out.push({
      kind: 'CommandAppliedTwice',
      ...where,
      seqs: [earlier.seq, earlier.applied.seq, cmd.seq, seq],
      message: samePod
        ? `PodCreate ${cmd.id} ran pod ${cmd.podName} again (${by} at seq ${seq}) after it had run (seq ${earlier.applied.seq}) and was gone: ` +
          'a duplicate create (past the server\'s de-duplication window) brought a deleted pod back'
        : `PodCreate ${cmd.id} made two pods: ${earlier.podName} on ${earlier.node} (run at seq ${earlier.applied.seq}) and ${cmd.podName} on ${cmd.node} ` +
          `(run at seq ${seq}); one command id must make one pod`,
    });
    return out;
  };

  return {
    issued(env: Envelope, cmd: PodCommand): void {
      const c = recordCommand(env, cmd);
      const t = trackOf(c.node, c.podUid);
      if (c.type === 'PodDelete') {
        t.pendingDeletes.push(c);
        return;
      }
      let same = createsById.get(c.id);
      if (!same) createsById.set(c.id, (same = []));
      same.push(c);
      // The agent ignores a create of a pod it runs; one of a pod that is gone may run it again.
      if (t.state !== 'running') t.pendingCreates.push(c);
    },
    podReported(env: Envelope, node: string, uid: string): AuditBreak[] {
      const t = trackOf(node, uid);
      const first = t.pendingCreates[0];
      // The first create not refused is the one the agent acted on; the others it ignored ("already running").
      t.pendingCreates = [];
      if (t.state === 'running' && !first) return [];
      t.state = 'running';
      return first ? applied(first, env.seq, env.event.type) : [];
    },
    podDeleted(env: Envelope, node: string, uid: string): AuditBreak[] {
      const t = trackOf(node, uid);
      const answered = t.pendingDeletes.shift();
      t.state = 'gone';
      t.pendingCreates = [];
      return answered ? applied(answered, env.seq, 'PodDeleted') : [];
    },
    rejected(d: CommandRejected['data']): void {
      const t = trackOf(d.node, d.podUid);
      const queue = d.commandType === 'PodCreate' ? t.pendingCreates : t.pendingDeletes;
      const i = queue.findIndex((c) => c.id === d.commandId);
      if (i >= 0) queue.splice(i, 1);
    },
    shardAcquired(env: Envelope, d: ShardAcquired['data']): void {
      shardEpochs.set(d.slot, { epoch: d.epoch, seq: env.seq, what: `ShardAcquired by ${d.owner}` });
    },
    nodeStartsOver(node: string): void {
      for (const key of tracksByNode.get(node) ?? []) {
        const t = tracks.get(key)!;
        if (t.state === 'running') t.state = 'gone';
        t.pendingCreates = [];
        t.pendingDeletes = [];
      }
      nodeEpochs.delete(node);
    },
  };
}
