// The suite drives and reads the cluster only through the real CLI (bin/dsctl.js), as a user
// would, each call bounded in time: during a stopped nats-server a call would otherwise hang.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/support/processes.js';

export const DSCTL = join(REPO_ROOT, 'bin', 'dsctl.js');

export interface DsctlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed at its time bound. */
  readonly timedOut: boolean;
}

/** Variables that would point dsctl at some other bus or identity. */
const FOREIGN_BUS_VARS = ['NATS_URL', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY', 'DATA_DIR'];

/** A cluster as dsctl reaches it: through the bus context its launcher wrote (URL and credentials). */
export interface ChaosBus {
  readonly dataDir: string;
}

export async function dsctl(bus: ChaosBus, args: readonly string[], timeoutMs: number, input?: string): Promise<DsctlResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of FOREIGN_BUS_VARS) delete env[name];
  env['DSCTL_CONTEXT'] = join(bus.dataDir, 'context.json');
  const child = spawn(process.execPath, [DSCTL, ...args], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.stdin.on('error', () => undefined); // dsctl may exit without reading its input
  child.stdin.end(input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const code = await new Promise<number | null>((resolveCode) => {
    child.once('error', () => resolveCode(null));
    child.once('close', (c) => resolveCode(c));
  });
  clearTimeout(timer);
  return { code, stdout: stdout.join(''), stderr: stderr.join(''), timedOut };
}

/** The status figures of a DaemonSet that say whether a rollout is complete. */
export interface DsView {
  readonly generation: number;
  readonly observedGeneration: number;
  readonly desired: number;
  readonly updated: number;
  readonly available: number;
  readonly ready: number;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** `dsctl get ds NAME -n NS -o json`, reduced; undefined when the call fails or times out. */
export async function readDs(bus: ChaosBus, namespace: string, name: string, timeoutMs: number): Promise<DsView | undefined> {
  const r = await dsctl(bus, ['get', 'ds', name, '-n', namespace, '-o', 'json'], timeoutMs);
  if (r.code !== 0) return undefined;
  try {
    const ds = JSON.parse(r.stdout) as { metadata?: { generation?: unknown }; status?: Record<string, unknown> };
    const s = ds.status ?? {};
    return {
      generation: num(ds.metadata?.generation),
      observedGeneration: num(s['observedGeneration']),
      desired: num(s['desiredNumberScheduled']),
      updated: num(s['updatedNumberScheduled']),
      available: num(s['numberAvailable']),
      ready: num(s['numberReady']),
    };
  } catch {
    return undefined;
  }
}

/**
 * A rollout is complete when the status describes the current spec and every desired node runs
 * an updated, available pod (kubectl's rollout status, plus: every node of the cluster is desired).
 */
export function rolloutComplete(view: DsView, nodes: number): boolean {
  return (
    view.observedGeneration >= view.generation &&
    view.desired === nodes &&
    view.updated === view.desired &&
    view.available === view.desired
  );
}

export function describeView(view: DsView | undefined): string {
  if (view === undefined) return 'status unreadable';
  return `generation ${view.observedGeneration}/${view.generation}, updated ${view.updated}, available ${view.available}, desired ${view.desired}`;
}

/** Names of the nodes whose Ready condition is True. */
export async function readyNodes(bus: ChaosBus, timeoutMs: number): Promise<string[]> {
  const r = await dsctl(bus, ['get', 'nodes', '-o', 'json'], timeoutMs);
  if (r.code !== 0) return [];
  try {
    const list = JSON.parse(r.stdout) as { items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[] };
    return (list.items ?? [])
      .filter((n) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata?.name ?? '');
  } catch {
    return [];
  }
}

/** The controller holding the lease of `slot` (`dsctl get shards -o json`), if any. */
export async function slotOwner(bus: ChaosBus, slotOf: (slots: number) => number, timeoutMs: number): Promise<string | undefined> {
  const r = await dsctl(bus, ['get', 'shards', '-o', 'json'], timeoutMs);
  if (r.code !== 0) return undefined;
  try {
    const list = JSON.parse(r.stdout) as { items?: { slot?: number; owner?: string }[] };
    const items = list.items ?? [];
    const slot = slotOf(items.length);
    return items.find((row) => row.slot === slot)?.owner;
  } catch {
    return undefined;
  }
}

/** The node of the newest live pod with these labels: the node being updated once a rollout has begun. */
export async function newestPodNode(bus: ChaosBus, namespace: string, selector: string, timeoutMs: number): Promise<string | undefined> {
  const r = await dsctl(bus, ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'], timeoutMs);
  if (r.code !== 0) return undefined;
  try {
    const list = JSON.parse(r.stdout) as { items?: { metadata?: { creationTimestamp?: string; deletionTimestamp?: string }; spec?: { nodeName?: string } }[] };
    const live = (list.items ?? []).filter((p) => p.metadata?.deletionTimestamp === undefined && p.spec?.nodeName !== undefined);
    live.sort((a, b) => Date.parse(b.metadata?.creationTimestamp ?? '') - Date.parse(a.metadata?.creationTimestamp ?? ''));
    return live[0]?.spec?.nodeName;
  } catch {
    return undefined;
  }
}

/** A NodeNotReady verdict in the log, as `dsctl events -o json` lists it. */
export interface NotReadyVerdict {
  readonly node: string;
  readonly seq: number;
  readonly message: string;
}

/** Every NodeNotReady verdict in the log (`dsctl events -A -o json`); undefined when the call fails. */
export async function notReadyVerdicts(bus: ChaosBus, timeoutMs: number): Promise<NotReadyVerdict[] | undefined> {
  const r = await dsctl(bus, ['events', '-A', '-o', 'json'], timeoutMs);
  if (r.code !== 0) return undefined;
  try {
    const list = JSON.parse(r.stdout) as { items?: { seq?: number; reason?: string; object?: string; message?: string }[] };
    return (list.items ?? [])
      .filter((e) => e.reason === 'NodeNotReady')
      .map((e) => ({ node: (e.object ?? '').replace(/^node\//, ''), seq: e.seq ?? 0, message: e.message ?? '' }));
  } catch {
    return undefined;
  }
}

/** One invariant break `dsctl audit -o json` reports. */
export interface AuditBreak {
  readonly kind: string;
  readonly ds?: string;
  readonly node?: string;
  readonly seqs?: readonly number[];
  readonly message?: string;
}

export type AuditOutcome =
  | { readonly status: 'clean' | 'breaks'; readonly events: number | undefined; readonly range: unknown; readonly breaks: readonly AuditBreak[] }
  /** This build has no `dsctl audit` yet. */
  | { readonly status: 'unavailable'; readonly reason: string }
  | { readonly status: 'error'; readonly reason: string };

/** `dsctl audit -o json` over the whole log (exit 0: no break, 1: breaks). */
export async function audit(bus: ChaosBus, timeoutMs: number): Promise<AuditOutcome> {
  const r = await dsctl(bus, ['audit', '-o', 'json'], timeoutMs);
  if (/unknown command 'audit'/.test(r.stderr)) return { status: 'unavailable', reason: 'this build of dsctl has no audit command' };
  if (r.timedOut) return { status: 'error', reason: `dsctl audit did not finish within ${timeoutMs} ms` };
  let report: { kind?: unknown; events?: unknown; range?: unknown; breaks?: unknown } | undefined;
  try {
    report = JSON.parse(r.stdout) as typeof report;
  } catch {
    report = undefined;
  }
  if (report === undefined || report.kind !== 'AuditReport' || !Array.isArray(report.breaks) || (r.code !== 0 && r.code !== 1)) {
    const said = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(0, 3).join(' / ');
    return { status: 'error', reason: `dsctl audit exited ${r.code}: ${said || 'no output'}` };
  }
  const breaks = report.breaks as AuditBreak[];
  return {
    status: breaks.length === 0 ? 'clean' : 'breaks',
    events: typeof report.events === 'number' ? report.events : undefined,
    range: report.range,
    breaks,
  };
}
