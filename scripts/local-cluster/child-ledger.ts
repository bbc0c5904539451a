// The launcher's ledger of the children it runs (DATA_DIR/launcher-children.json): name, pid and
// the process's start time from /proc, rewritten whenever a child starts or exits and removed on a
// clean stop. A launcher killed with -9 cannot stop its children: its Node services notice by
// themselves (SUPERVISOR_PID, libs/runtime/parent-watch.ts), but nats-server cannot; the next
// launcher on the same DATA_DIR reads the ledger and stops what is still running there before it
// starts anything (pid and start time must both match: a reused pid is left alone).

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** The ledger's file name in DATA_DIR. */
export const LEDGER_FILE = 'launcher-children.json';

export interface LedgerEntry {
  readonly name: string;
  readonly pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): tells a reused pid apart. */
  readonly startTime: string;
}

/** The start time of `pid` from /proc, or undefined when it is not running (a zombie is not). */
export function procStartTime(pid: number): string | undefined {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** PURE: field 22 of a /proc/<pid>/stat line (the command, field 2, may hold spaces and parentheses); undefined for a zombie. */
export function startTimeOf(stat: string): string | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[0] === 'Z' || rest[0] === 'X' ? undefined : rest[19];
}

/** PURE: the ledger's text → its entries; anything malformed is dropped. */
export function parseLedger(text: string): LedgerEntry[] {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is LedgerEntry =>
        typeof e === 'object' && e !== null && typeof e.name === 'string' && Number.isInteger(e.pid) && e.pid > 0 && typeof e.startTime === 'string',
    );
  } catch {
    return [];
  }
}

export class ChildLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  constructor(private readonly path: string) {}

  record(name: string, pid: number): void {
    const startTime = procStartTime(pid);
    if (startTime === undefined) return;
    this.entries.set(name, { name, pid, startTime });
    this.write();
  }

  forget(name: string): void {
    if (this.entries.delete(name)) this.write();
  }

  /** A clean stop: nothing is left to reap. */
  clear(): void {
    this.entries.clear();
    rmSync(this.path, { force: true });
  }

  private write(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify([...this.entries.values()], null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}

/**
 * Stops the children an earlier launcher left running (SIGTERM, then SIGKILL after `graceMs`);
 * returns what it found, as `name (pid N)`.
 */
export async function reapLeftovers(path: string, graceMs: number): Promise<string[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const alive = parseLedger(text).filter((e) => procStartTime(e.pid) === e.startTime);
  for (const e of alive) signal(e.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && alive.some((e) => procStartTime(e.pid) === e.startTime)) await delay(50);
  for (const e of alive) if (procStartTime(e.pid) === e.startTime) signal(e.pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && alive.some((e) => procStartTime(e.pid) === e.startTime)) await delay(20);
  rmSync(path, { force: true });
  return alive.map((e) => `${e.name} (pid ${e.pid})`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
