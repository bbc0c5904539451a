// The launcher's process supervisor: each child restarted with back-off when it dies (like
// compose's `restart: unless-stopped`), and the order in which the children are stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ChildLedger } from './child-ledger.js';
import type { ChildRole, ChildSpec } from './children.js';
import { formatMs } from './log-lines.js';
import type { Print } from './log-lines.js';

/** Restart back-off: 1 s doubling to 30 s; a child that stayed up 60 s starts again from 1 s. */
export interface RestartPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A child up at least this long counts as healthy: its next crash waits initialDelayMs again. */
  readonly resetAfterMs: number;
}
export const RESTART_POLICY: RestartPolicy = Object.freeze({ initialDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 });

/** The crash count after a child exits unexpectedly having run `uptimeMs`: the previous count + 1, or 1 after a long run. */
export function nextCrashCount(previous: number, uptimeMs: number, policy: RestartPolicy = RESTART_POLICY): number {
  return uptimeMs >= policy.resetAfterMs ? 1 : previous + 1;
}

/** The wait before restarting after the `crashCount`-th consecutive crash (1-based). */
export function restartDelayMs(crashCount: number, policy: RestartPolicy = RESTART_POLICY): number {
  const exponent = Math.max(0, crashCount - 1);
  // 2^5 already exceeds the 30x ratio; capping the exponent keeps the arithmetic finite.
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(exponent, 30));
}

/** Agents first (they deregister), then the API facade and controllers, then the server they all talk to. */
export const STOP_ORDER: readonly ChildRole[] = ['agent', 'apiserver', 'controller', 'nats'];

/**
 * The children to stop, as groups stopped one after the other (a group's members at once), in
 * STOP_ORDER: all agents, all controllers, then each nats-server alone, so a cluster loses one
 * member at a time and the last ones still serve whatever the first ones were finishing.
 */
export function stopPlan(specs: readonly ChildSpec[]): string[][] {
  const plan: string[][] = [];
  for (const role of STOP_ORDER) {
    const names = specs.filter((spec) => spec.role === role).map((spec) => spec.name);
    if (names.length === 0) continue;
    if (role === 'nats') plan.push(...names.map((name) => [name]));
    else plan.push(names);
  }
  return plan;
}

type ChildState = 'idle' | 'running' | 'waiting' | 'stopping' | 'stopped';

/** One child kept running: restarted with back-off when it dies, unless we are stopping it. */
export class SupervisedChild {
  private state: ChildState = 'idle';
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private crashes = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exitWaiters: Array<() => void> = [];
  /** Off until the child is known to work, so a child that cannot start fails the launch instead of looping. */
  restartOnExit = true;
  onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(
    readonly spec: ChildSpec,
    private readonly baseEnv: NodeJS.ProcessEnv,
    private readonly print: Print,
    private readonly log: (line: string) => void,
    private readonly ledger?: ChildLedger,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    // SUPERVISOR_PID: a service whose launcher died (kill -9) stops by itself (libs/runtime/parent-watch.ts).
    const env: NodeJS.ProcessEnv = { ...this.baseEnv, ...this.spec.env, SUPERVISOR_PID: String(process.pid) };
    // A process group of its own: a terminal's Ctrl-C reaches only the launcher, which then stops
    // the children in order instead of all of them at once.
    const child = spawn(this.spec.command, [...this.spec.args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.state = 'running';
    this.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.print(this.spec.name, line));
    }
    child.once('error', (error) => this.log(`${this.spec.name}: could not start ${this.spec.command}: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    if (child.pid !== undefined) this.ledger?.record(this.spec.name, child.pid);
    this.log(`started ${this.spec.name} (pid ${child.pid ?? '?'})`);
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.ledger?.forget(this.spec.name);
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.state = 'stopped';
      for (const wake of this.exitWaiters.splice(0)) wake();
      return;
    }
    const uptimeMs = Date.now() - this.startedAt;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (!this.restartOnExit) {
      this.state = 'stopped';
      this.log(`${this.spec.name} exited (${how}) after ${formatMs(uptimeMs)}`);
      this.onUnexpectedExit?.(code, signal);
      return;
    }
    this.crashes = nextCrashCount(this.crashes, uptimeMs);
    const waitMs = restartDelayMs(this.crashes);
    this.log(`${this.spec.name} exited (${how}) after ${formatMs(uptimeMs)}; restarting in ${formatMs(waitMs)} (restart ${this.crashes})`);
    this.state = 'waiting';
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state === 'waiting') this.start();
    }, waitMs);
  }

  /** Signals the child and waits; SIGKILL after graceMs. Resolves true when it exited by itself. */
  async stop(graceMs: number): Promise<boolean> {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child === undefined || this.state === 'stopped') {
      this.state = 'stopped';
      return true;
    }
    this.state = 'stopping';
    const gone = new Promise<void>((wake) => this.exitWaiters.push(wake));
    child.kill(this.spec.stopSignal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.log(`${this.spec.name} did not stop within ${formatMs(graceMs)}: SIGKILL`);
      child.kill('SIGKILL');
    }, graceMs);
    await gone;
    clearTimeout(timer);
    return !killed;
  }

  kill(): void {
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.state = 'stopped';
    this.child?.kill('SIGKILL');
  }
}
