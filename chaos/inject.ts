// Injecting one fault into a running cluster, and knowing when it healed: a killed process is
// healed when the launcher has started it again (nats-server: when the new one says it is ready),
// a stopped one when it gets SIGCONT.

import { setTimeout as delay } from 'node:timers/promises';
import type { ChaosCluster } from './cluster.js';
import { isKillFault, type FaultName } from './faults.js';
import { signal } from './leftovers.js';

export interface FaultPlan {
  readonly fault: FaultName;
  /** The launcher's name of the child to hit: `nats`, `controller-N`, `node-N`. */
  readonly target: string;
  /** How long a stop lasts (nats-stop, controller-stop). */
  readonly stopMs: number;
  /** How long to wait for a killed process to be back before calling it not healed. */
  readonly healTimeoutMs: number;
}

export interface Heal {
  /** When the fault ended (restarted and ready, or continued); undefined when it did not within the bound. */
  readonly atMs: number | undefined;
  /** What the launcher said about the restart, when it restarted something. */
  readonly note: string | undefined;
}

export interface Injection {
  /** `-` for the control (`none`). */
  readonly target: string;
  /** Undefined for the control. */
  readonly pid: number | undefined;
  readonly atMs: number;
  /** Settles once the fault has ended; never rejects. */
  readonly healed: Promise<Heal>;
}

export class InjectionError extends Error {
  override readonly name = 'InjectionError';
}

export function inject(cluster: ChaosCluster, plan: FaultPlan): Injection {
  if (plan.fault === 'none') {
    const atMs = Date.now();
    return { target: plan.target, pid: undefined, atMs, healed: Promise.resolve({ atMs, note: undefined }) };
  }
  const pid = cluster.pidOf(plan.target);
  if (pid === undefined) throw new InjectionError(`no pid known for ${plan.target}`);
  const from = cluster.lineCount();
  const atMs = Date.now();
  if (!signal(pid, isKillFault(plan.fault) ? 'SIGKILL' : 'SIGSTOP')) throw new InjectionError(`${plan.target} (pid ${pid}) is not running`);
  const healed = isKillFault(plan.fault) ? restarted(cluster, plan, pid, from) : continued(pid, plan.stopMs);
  return { target: plan.target, pid, atMs, healed };
}

async function continued(pid: number, stopMs: number): Promise<Heal> {
  await delay(stopMs);
  signal(pid, 'SIGCONT');
  return { atMs: Date.now(), note: undefined };
}

async function restarted(cluster: ChaosCluster, plan: FaultPlan, oldPid: number, from: number): Promise<Heal> {
  const escaped = plan.target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const restartLine = await cluster.waitForLine((t) => new RegExp(`^\\[launcher\\]\\s+${escaped} exited .*restarting in`).test(t), from, plan.healTimeoutMs);
  const note = restartLine?.text.replace(/^\[launcher\]\s+/, '');
  const startedPattern = new RegExp(`^\\[launcher\\]\\s+started ${escaped} \\(pid (\\d+)\\)$`);
  const started = await cluster.waitForLine((t) => {
    const m = startedPattern.exec(t);
    return m !== null && Number(m[1]) !== oldPid;
  }, from, plan.healTimeoutMs);
  if (started === undefined) return { atMs: undefined, note: note ?? `${plan.target} was not started again` };
  if (plan.target !== 'nats') return { atMs: started.atMs, note };
  const newPid = startedPattern.exec(started.text)?.[1] ?? '';
  const ready = await cluster.waitForLine((t) => t.startsWith('[nats]') && t.includes(`[${newPid}]`) && t.endsWith('Server is ready'), from, plan.healTimeoutMs);
  return { atMs: ready?.atMs, note };
}
