// dsctl set image, rollout status|history|undo|restart|pause|resume: kubectl's verbs, flags and
// texts for DaemonSets (reference §10), over the log.

import type { Command } from 'commander';
import type { NatsConnection } from '@nats-io/transport-node';
import { rfc3339 } from '../../libs/core/k8s-objects.js';
import { dsKey, type DsRecord, type State } from '../../libs/core/state.js';
import type { Envelope } from '../../libs/events/types.js';
import { splitKindName, visible, withBus } from './context.js';
import { CliError, notFound } from './errors.js';
import { toJson, toYaml } from '../../libs/present/object-output.js';
import {
  controllerRevisionList,
  controllerRevisionObject,
  renderHistoryTable,
  renderRevision,
  renderTimeline,
} from '../../libs/present/history.js';
import { followRolloutStatus } from './rollout/follow-status.js';
import { parseGoDuration } from '../../libs/present/go-duration.js';
import { keptRevisions } from '../../libs/present/kept-revisions.js';
import { timelineRecorder } from '../../libs/present/revision-timeline.js';
import { rollbackPlan } from './rollout/rollback-plan.js';
import { parseImageUpdates, setImages } from './rollout/set-image.js';
import { readSpecTarget, specTargetOf, writeTemplate } from './rollout/spec-writer.js';
import { loadState } from './state-loader.js';

/** The template annotation `rollout restart` sets; a new value is a new template, hence a rollout. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

interface NamespaceFlag {
  namespace: string;
}

/** `ds/NAME`, `daemonset/NAME` or `ds NAME` → NAME; these verbs act on DaemonSets only. */
function daemonSetName(kindArg: string, nameArg: string | undefined, verb: string): string {
  const { kind, name } = splitKindName(kindArg, nameArg);
  if (kind !== 'ds') throw new CliError(`error: dsctl ${verb} supports daemonsets only`);
  if (!name) throw new CliError('error: resource(s) were provided, but no name was specified');
  return name;
}

/** pflag's text for a bad int64 flag value. */
function parseIntFlag(flag: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value)) {
    throw new CliError(`error: invalid argument ${JSON.stringify(value)} for "${flag}" flag: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  return Number(value);
}

function parseBoolFlag(flag: string, value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new CliError(`error: invalid argument ${JSON.stringify(value)} for "${flag}" flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

function liveDaemonSet(state: State, namespace: string, name: string): DsRecord {
  const ds = visible(state).daemonSets.get(dsKey(namespace, name));
  if (!ds) throw notFound('daemonsets.apps', name);
  return ds;
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

// ---- set image ------------------------------------------------------------------------------

export interface SetImageOutcome {
  /** `daemonset.apps/NAME image updated`, or nothing when no image changed. */
  readonly lines: string[];
  /** `error: unable to find container named "x"` per unknown name. */
  readonly errors: string[];
}

/** set_image.go: the changed images are written (if any changed), and unknown names still fail the command. */
export async function setImageCommand(nc: NatsConnection, namespace: string, name: string, pairs: readonly string[]): Promise<SetImageOutcome> {
  if (pairs.length === 0) throw new CliError('error: at least one image update is required');
  const updates = parseImageUpdates(pairs);
  if (!updates) throw new CliError(`error: expected CONTAINER_NAME=CONTAINER_IMAGE pairs after the resource, got ${pairs.join(' ')}`);
  const target = await readSpecTarget(nc, namespace, name);
  const { template, missing } = setImages(target.data.spec.template, updates);
  const lines = (await writeTemplate(nc, target, template)) ? [`daemonset.apps/${name} image updated`] : [];
  return { lines, errors: missing.map((c) => `error: unable to find container named ${JSON.stringify(c)}`) };
}

// ---- rollout undo | restart -----------------------------------------------------------------

export async function undoCommand(nc: NatsConnection, namespace: string, name: string, toRevision: number): Promise<string> {
  const { state } = await loadState(nc);
  const ds = liveDaemonSet(state, namespace, name);
  const plan = rollbackPlan(keptRevisions(ds, state), ds.currentHash, toRevision);
  switch (plan.kind) {
    case 'error':
      throw new CliError(`error: ${plan.message}`);
    case 'skip':
      return `daemonset.apps/${name} ${plan.message}`;
    case 'write':
      await writeTemplate(nc, specTargetOf(ds), plan.revision.template);
      return `daemonset.apps/${name} rolled back`;
  }
}

export async function restartCommand(nc: NatsConnection, namespace: string, name: string, nowMs: number): Promise<string> {
  const target = await readSpecTarget(nc, namespace, name);
  const t = target.data.spec.template;
  const annotations = { ...(t.metadata?.annotations ?? {}), [RESTARTED_AT_ANNOTATION]: rfc3339(nowMs) };
  const changed = await writeTemplate(nc, target, { ...t, metadata: { ...(t.metadata ?? {}), annotations } });
  if (!changed) {
    throw new CliError(
      `error: failed to create patch for ${name}: if restart has already been triggered within the past second, please wait before attempting to trigger another`,
    );
  }
  return `daemonset.apps/${name} restarted`;
}

// ---- rollout history ------------------------------------------------------------------------

export interface HistoryFlags {
  readonly revision: number;
  readonly output?: 'json' | 'yaml';
}

export async function historyCommand(nc: NatsConnection, namespace: string, name: string, flags: HistoryFlags): Promise<string> {
  const recorder = flags.revision > 0 && !flags.output ? timelineRecorder(namespace, name) : undefined;
  const { state } = await loadState(nc, recorder ? { onEnvelope: (env: Envelope) => recorder.observe(env) } : {});
  const ds = liveDaemonSet(state, namespace, name);
  const history = keptRevisions(ds, state);
  const revision = flags.revision > 0 ? history.find((r) => r.revision === flags.revision) : undefined;
  if (flags.revision > 0 && !revision) throw new CliError('error: unable to find the specified revision');
  if (flags.output) {
    const value = revision ? controllerRevisionObject(ds, revision) : controllerRevisionList(ds, history);
    return flags.output === 'json' ? toJson(value) : toYaml(value);
  }
  if (!revision) return renderHistoryTable(ds, history);
  return `${renderRevision(ds, revision)}${renderTimeline(revision, recorder?.podsOf(ds.uid, revision.hash) ?? [])}`;
}

// ---- wiring ---------------------------------------------------------------------------------

export function registerRolloutCommands(program: Command): void {
  program
    .command('set')
    .description('Set specific features on DaemonSets (kubectl set)')
    .command('image')
    .description("Update the image of a DaemonSet's pod template: set image ds/NAME CONTAINER=IMAGE ... (* for every container)")
    .argument('<resource>', 'ds/NAME (or ds NAME)')
    .argument('[pairs...]', 'CONTAINER=IMAGE pairs')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .action(async (resource: string, rest: string[], flags: NamespaceFlag) => {
      // `ds NAME c=img` as well as `ds/NAME c=img`.
      const nameFirst = !resource.includes('/') && rest.length > 0 && !rest[0]!.includes('=');
      const name = daemonSetName(resource, nameFirst ? rest[0] : undefined, 'set image');
      const pairs = nameFirst ? rest.slice(1) : rest;
      const { lines, errors } = await withBus(program, (nc) => setImageCommand(nc, flags.namespace, name, pairs));
      for (const l of lines) out(l);
      if (errors.length > 0) throw new CliError(errors.join('\n'));
    });

  const rollout = program.command('rollout').description('Manage the rollout of a DaemonSet (kubectl rollout)');

  rollout
    .command('status')
    .description('Show the status of the rollout, following it until it completes')
    .argument('<kind>', 'ds/NAME (or ds NAME)')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--timeout <duration>', 'give up after this long (30s, 2m, 1m30s); 0 waits forever', '0s')
    .option('-w, --watch [bool]', 'follow the rollout until it completes (--watch=false prints the status once)', true)
    .option('--revision <n>', 'ignored for DaemonSets, as kubectl ignores it')
    .action(async (kindArg: string, nameArg: string | undefined, flags: NamespaceFlag & { timeout: string; watch: string | boolean }) => {
      const name = daemonSetName(kindArg, nameArg, 'rollout status');
      const timeoutMs = parseGoDuration(flags.timeout);
      if (timeoutMs === undefined) {
        throw new CliError(`error: invalid argument ${JSON.stringify(flags.timeout)} for "--timeout" flag: time: invalid duration ${JSON.stringify(flags.timeout)}`);
      }
      if (timeoutMs < 0) throw new CliError('error: --timeout must not be negative');
      const watch = parseBoolFlag('-w, --watch', flags.watch);
      await withBus(program, (nc) =>
        followRolloutStatus({ nc, namespace: flags.namespace, name, timeoutMs, watch, write: (line) => out(line) }),
      );
    });

  rollout
    .command('history')
    .description('View rollout history: REVISION and CHANGE-CAUSE; --revision=N shows its template and its per-node timeline')
    .argument('<kind>', 'ds/NAME (or ds NAME)')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--revision <n>', 'see the details, including the pod template, of this revision', '0')
    .option('-o, --output <format>', 'json|yaml: the ControllerRevisions')
    .action(async (kindArg: string, nameArg: string | undefined, flags: NamespaceFlag & { revision: string; output?: string }) => {
      const name = daemonSetName(kindArg, nameArg, 'rollout history');
      const revision = parseIntFlag('--revision', flags.revision);
      if (revision < 0) throw new CliError(`error: revision must be a positive integer: ${revision}`);
      const output = flags.output;
      if (output !== undefined && output !== 'json' && output !== 'yaml') {
        throw new CliError(`error: unable to match a printer suitable for the output format "${output}", allowed formats are: json,yaml`);
      }
      const text = await withBus(program, (nc) => historyCommand(nc, flags.namespace, name, { revision, ...(output ? { output } : {}) }));
      process.stdout.write(text);
    });

  rollout
    .command('undo')
    .description('Roll back to the previous revision, or to --to-revision=N')
    .argument('<kind>', 'ds/NAME (or ds NAME)')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--to-revision <n>', 'the revision to roll back to; 0 means the previous one', '0')
    .action(async (kindArg: string, nameArg: string | undefined, flags: NamespaceFlag & { toRevision: string }) => {
      const name = daemonSetName(kindArg, nameArg, 'rollout undo');
      const toRevision = parseIntFlag('--to-revision', flags.toRevision);
      out(await withBus(program, (nc) => undoCommand(nc, flags.namespace, name, toRevision)));
    });

  rollout
    .command('restart')
    .description('Restart every pod through a rolling update (a new restartedAt template annotation)')
    .argument('<kind>', 'ds/NAME (or ds NAME)')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .action(async (kindArg: string, nameArg: string | undefined, flags: NamespaceFlag) => {
      const name = daemonSetName(kindArg, nameArg, 'rollout restart');
      out(await withBus(program, (nc) => restartCommand(nc, flags.namespace, name, Date.now())));
    });

  // objectpauser / objectresumer: a DaemonSet has no `paused` field.
  for (const [verb, gerund] of [
    ['pause', 'pausing'],
    ['resume', 'resuming'],
  ] as const) {
    rollout
      .command(verb)
      .description(`Refused for DaemonSets, as kubectl refuses it (${gerund} is not supported)`)
      .argument('<kind>', 'ds/NAME (or ds NAME)')
      .argument('[name]')
      .option('-n, --namespace <ns>', 'namespace', 'default')
      .action(async (kindArg: string, nameArg: string | undefined, flags: NamespaceFlag) => {
        const name = daemonSetName(kindArg, nameArg, `rollout ${verb}`);
        await withBus(program, (nc) => readSpecTarget(nc, flags.namespace, name));
        throw new CliError(`error: daemonsets.apps ${JSON.stringify(name)} ${gerund} is not supported`);
      });
  }
}
