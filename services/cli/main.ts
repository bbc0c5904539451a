// dsctl: kubectl's verbs, flags and output for DaemonSets, their pods and nodes, over the log.

import { Command, Option } from 'commander';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseSelectorString } from '../../libs/model/selectors.js';
import { ConflictError, publishEvent } from '../../libs/nats/publish.js';
import { readTopology } from '../../libs/nats/topology.js';
import type { DeletePropagation } from '../../libs/events/types.js';
import { dsSubject, podRequestSubject } from '../../libs/topology/names.js';
import { dsSlot } from '../../libs/topology/slot.js';
import { applyManifests, lastSpec, parseManifests, readInput } from './apply.js';
import { ApplyIncompleteError, busRefusal, CliError, notFound } from './errors.js';
import { permissionRefusal } from '../../libs/auth/permission-refusal.js';
import { outputOf, splitKindName, visible, withBus, type GetFlags } from './context.js';
import { registerAuthCommands } from './auth-commands.js';
import { registerAuditCommand } from './audit.js';
import { registerMigrateCommand } from './migrate.js';
import { registerNodeCommands } from './node-commands.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { renderGet } from '../../libs/present/get.js';
import { readControllers, readShards, renderControllers, renderShards } from './shards.js';
import { describeDaemonSet } from '../../libs/present/describe.js';
import { parseSince, renderEvents, type EventsOptions } from '../../libs/present/events.js';
import { evolve, skipPosition } from '../../libs/core/evolve.js';
import { eventRecordOf } from '../../libs/core/event-records.js';
import type { State } from '../../libs/core/state.js';
import { openLogReader } from '../../libs/nats/log-reader.js';
import { DEFAULT_SLOTS } from '../../libs/topology/names.js';
import { loadState, type LoadOptions } from './state-loader.js';
import { deleteNamespace, kindAndName } from './namespaces.js';
import { managerOf } from '../../libs/nats/subject-reads.js';

async function runGet(program: Command, kindArg: string, nameArg: string | undefined, flags: GetFlags, load: LoadOptions): Promise<number> {
  const lower = kindArg.toLowerCase();
  if (lower === 'shards' || lower === 'shard' || lower === 'controllers' || lower === 'controller') {
    if (load.untilSeq !== undefined || load.untilMs !== undefined) throw new CliError(`error: ${lower} are live leases, not part of replay`);
    const nowMs = Date.now();
    const out = await withBus(program, async (nc) => {
      const shards = await readShards(nc, nowMs);
      return lower.startsWith('shard') ? renderShards(shards, nowMs, flags.output) : renderControllers(await readControllers(nc), shards, nowMs, flags.output);
    });
    process.stdout.write(out);
    return 0;
  }
  const { kind, name } = kindAndName(kindArg, nameArg);
  const output = outputOf(flags.output);
  let selector: ((labels: Readonly<Record<string, string>>) => boolean) | undefined;
  if (flags.selector) {
    const parsed = parseSelectorString(flags.selector);
    if (!parsed.ok) throw new CliError(`error: ${parsed.error}`);
    selector = parsed.matches;
  }
  const { state } = await withBus(program, (nc) => loadState(nc, load));
  const r = renderGet(kind, visible(state), {
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    allNamespaces: flags.allNamespaces ?? false,
    ...(name !== undefined ? { name } : {}),
    ...(selector ? { selector } : {}),
    output,
    nowMs: load.untilMs ?? (load.untilSeq !== undefined ? state.lastTimeMs : Date.now()),
  });
  if (r.stdout) process.stdout.write(r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`);
  if (r.stderr) process.stderr.write(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`);
  return r.exitCode;
}

function addGetCommand(parent: Command, program: Command, load: () => LoadOptions): void {
  parent
    .command('get')
    .description('Display DaemonSets, pods or nodes (kubectl get)')
    .argument('<kind>', 'ds|daemonsets, pods|po, nodes|no, ns|namespaces (or KIND/NAME), shards, controllers')
    .argument('[name]', 'one object by name')
    .option('-n, --namespace <ns>', 'namespace (default "default")')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-o, --output <format>', 'wide|json|yaml|name')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .action(async (kindArg: string, nameArg: string | undefined, flags: GetFlags) => {
      process.exitCode = await runGet(program, kindArg, nameArg, flags, load());
    });
}

/** `--at SEQUENCE|TIMESTAMP` → what to fold. */
export function parseAt(at: string): LoadOptions {
  if (/^\d+$/.test(at)) return { untilSeq: Number(at) };
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new CliError(`error: --at takes a log sequence number or an RFC 3339 time, not ${JSON.stringify(at)}`);
  return { untilMs: ms };
}

export function buildProgram(): Command {
  const program = new Command('dsctl');
  program
    .description('kubectl for an event-sourced DaemonSet controller on NATS JetStream')
    .option('-s, --server <url>', 'NATS URL (default $NATS_URL, else the bus context npm start wrote: $DSCTL_CONTEXT or .data/context.json, else nats://127.0.0.1:4222)')
    .option('--creds <file>', 'credentials file for the bus (default $NATS_CREDS); see dsctl auth')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('apply')
    .description('Apply Namespace and DaemonSet manifests (multi-document YAML or JSON), in file order')
    .requiredOption('-f, --filename <file>', 'file to apply, or - for stdin')
    .action(async (flags: { filename: string }) => {
      const parsed = await parseManifests(await readInput(flags.filename), flags.filename);
      if (!parsed.daemonSets.length && !parsed.namespaces?.length && !parsed.skipped.length) throw new CliError('error: no objects passed to apply');
      try {
        const { lines, notes } = await withBus(program, (nc) => applyManifests(nc, parsed));
        for (const n of notes) process.stderr.write(`${n}\n`);
        for (const l of lines) process.stdout.write(`${l}\n`);
      } catch (err) {
        if (!(err instanceof ApplyIncompleteError)) throw err;
        // As kubectl: what landed on stdout, what did not and why on stderr, exit 1.
        for (const l of err.applied) process.stdout.write(`${l}\n`);
        for (const l of [...err.notes, ...err.outcomes.filter((o) => !err.applied.includes(o)), ...err.failures]) process.stderr.write(`${l}\n`);
        process.exitCode = 1;
      }
    });

  addGetCommand(program, program, () => ({}));
  registerAuthCommands(program);

  program
    .command('describe')
    .description('Show a DaemonSet with its status and events')
    .argument('<kind>', 'ds')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .action(async (kindArg: string, nameArg: string | undefined, flags: { namespace: string }) => {
      const { kind, name } = splitKindName(kindArg, nameArg);
      if (kind !== 'ds') throw new CliError('error: dsctl describe supports daemonsets only');
      if (!name) throw new CliError('error: describe needs a DaemonSet name');
      const { state, events } = await withBus(program, (nc) => loadState(nc, { withEvents: true }));
      const ds = visible(state).daemonSets.get(`${flags.namespace}/${name}`);
      if (!ds) throw notFound('daemonsets.apps', name);
      const mine = events.filter((e) => e.object === `daemonset/${flags.namespace}/${name}`);
      process.stdout.write(describeDaemonSet(ds, state, mine, Date.now()));
    });

  program
    .command('delete')
    .description('Delete a DaemonSet (its pods go too unless --cascade=orphan), a pod (its DaemonSet replaces it), or a namespace (with its DaemonSets)')
    .argument('<kind>', 'ds|pod|ns')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .addOption(new Option('--cascade [policy]', 'background|foreground|orphan').default('background'))
    .action(async (kindArg: string, nameArg: string | undefined, flags: { namespace: string; cascade: string | boolean }) => {
      const { kind, name } = kindAndName(kindArg, nameArg);
      if (kind === 'nodes') throw new CliError('error: nodes leave by stopping their agent (it deregisters on SIGTERM)');
      if (!name) throw new CliError('error: resource(s) were provided, but no name was specified');
      if (kind === 'namespaces') {
        await withBus(program, (nc) => deleteNamespace(nc, name));
        process.stdout.write(`namespace "${name}" deleted\n`);
        return;
      }
      if (kind === 'pods') {
        await withBus(program, (nc) => requestPodDeletion(nc, flags.namespace, name));
        process.stdout.write(`pod "${name}" deleted\n`);
        return;
      }
      const cascade = flags.cascade === true || flags.cascade === 'true' ? 'background' : flags.cascade === 'false' ? 'orphan' : flags.cascade;
      if (cascade !== 'background' && cascade !== 'foreground' && cascade !== 'orphan') {
        throw new CliError(`error: invalid cascade value (${String(cascade)}). Must be "background", "foreground", or "orphan".`);
      }
      await withBus(program, async (nc) => {
        const settings = await readTopology(nc);
        if (!settings) throw notFound('daemonsets.apps', name);
        const subject = dsSubject(dsSlot(flags.namespace, name, settings.slots), flags.namespace, name);
        const last = await lastSpec(await managerOf(nc), subject);
        if (!last || last.event.type !== 'DaemonSetApplied') throw notFound('daemonsets.apps', name);
        try {
          await publishEvent(jetstream(nc), {
            subject,
            event: {
              type: 'DaemonSetDeleted',
              v: 1,
              data: { namespace: flags.namespace, name, uid: last.event.data.uid, propagation: cascade as DeletePropagation },
            },
            expectLastSubjectSeq: last.seq,
          });
        } catch (err) {
          if (err instanceof ConflictError) throw new CliError(`Error from server (Conflict): daemonsets.apps "${name}" changed while it was being deleted; try again`);
          throw err;
        }
      });
      process.stdout.write(`daemonset.apps "${name}" deleted\n`);
    });

  program
    .command('events')
    .description('List events derived from the log (kubectl events); -w follows new ones')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-A, --all-namespaces', 'all namespaces')
    .option('--for <object>', 'only events of this object, e.g. ds/fluentd or node/node-1')
    .option('--since <when>', 'only events newer than a duration (10m, 2h) or after an RFC 3339 time')
    .option('-w, --watch', 'after listing, keep printing new events until interrupted')
    .option('-o, --output <format>', 'json')
    .action(async (flags: { namespace?: string; allNamespaces?: boolean; for?: string; since?: string; watch?: boolean; output?: string }) => {
      const nowMs = Date.now();
      const sinceMs = flags.since !== undefined ? parseSince(flags.since, nowMs) : undefined;
      if (flags.since !== undefined && sinceMs === undefined) throw new CliError(`error: --since takes a duration such as 10m or an RFC 3339 time, not ${JSON.stringify(flags.since)}`);
      const opts = { ...flags, ...(sinceMs !== undefined ? { sinceMs } : {}) };
      await withBus(program, async (nc) => {
        const { state, events } = await loadState(nc, { withEvents: true });
        process.stdout.write(renderEvents(events, { ...opts, nowMs }));
        if (!flags.watch) return;
        await watchEvents(nc, state, opts);
      });
    });

  registerRolloutCommands(program);
  registerNodeCommands(program);
  registerAuditCommand(program);
  registerMigrateCommand(program);

  const replay = program
    .command('replay')
    .description('Show state as it was at a point of the log: dsctl replay --at SEQ|TIME get ...')
    .requiredOption('--at <point>', 'a log sequence number or an RFC 3339 time');
  addGetCommand(replay, program, () => parseAt(replay.opts<{ at: string }>().at));

  return program;
}

/** Follows the log from where `state` ends, printing each new event as it is folded, until SIGINT/SIGTERM. */
async function watchEvents(nc: NatsConnection, state: State, opts: Omit<EventsOptions, 'nowMs'>): Promise<void> {
  const settings = await readTopology(nc);
  const reader = await openLogReader({
    nc,
    fromSeq: state.seq + 1,
    onEnvelope: (env) => {
      const rec = eventRecordOf(state, env);
      evolve(state, env, { slots: settings?.slots ?? DEFAULT_SLOTS });
      if (rec) process.stdout.write(renderEvents([rec], { ...opts, nowMs: Date.now(), noHeaders: true }));
    },
    onInvalid: (msg) => skipPosition(state, msg.seq),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    void reader.done.then(resolve);
  });
  await reader.stop();
}

/**
 * `dsctl delete pod`: the pod's controller (not the CLI, which holds no lease) turns the request
 * into a PodDelete with its epoch; the agent stops the pod and the DaemonSet decides what comes next.
 */
async function requestPodDeletion(nc: NatsConnection, namespace: string, name: string): Promise<void> {
  const { state } = await loadState(nc);
  const pod = state.pods.get(`${namespace}/${name}`);
  if (!pod) throw notFound('pods', name);
  const ds = pod.owner ? state.daemonSets.get(`${namespace}/${pod.owner.name}`) : undefined;
  if (!ds || ds.uid !== pod.owner?.uid) {
    throw new CliError(`error: pod "${name}" has no controlling DaemonSet here; nothing would act on its deletion`);
  }
  await publishEvent(jetstream(nc), {
    subject: podRequestSubject(ds.slot, pod.node),
    event: { type: 'PodDeleteRequested', v: 1, data: { node: pod.node, namespace, podName: name, podUid: pod.uid } },
  });
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    const code = (err as { code?: string; exitCode?: number }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
      return;
    }
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    const refusal = permissionRefusal(err);
    if (refusal) {
      // The bus refused it: the credentials in use (NATS_CREDS / --creds) are not allowed to.
      const forbidden = busRefusal(refusal);
      process.stderr.write(`${forbidden.message}\n`);
      process.exitCode = forbidden.exitCode;
      return;
    }
    process.stderr.write(`error: ${message}\n`);
    // DSCTL_DEBUG=1: where it happened, for a bug report.
    if (process.env['DSCTL_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
