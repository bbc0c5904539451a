// PID files of the process driver: `<stateDir>/pids/<uid>.<container>.pid`, one per container of
// a pod the driver holds (written at each start, kept while the pod runs, removed when it stops),
// so an agent that was kill -9'd can adopt its containers when it starts again, or end them.
// A file holds JSON (PidRecord): { pid, cmdline, startTime?, bootId?, restartCount?, startedAtMs?,
// ready?, exitCode? }.

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface PidRecord {
  readonly pid: number;
  /** The argv the driver spawned. */
  readonly cmdline: readonly string[];
  /** The process' start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  readonly startTime?: string;
  /** /proc/sys/kernel/random/boot_id when it started: a start time means nothing after a reboot. */
  readonly bootId?: string;
  /** The container's restart count when this process started (kubectl's RESTARTS). */
  readonly restartCount?: number;
  /** Wall-clock start, ms since the epoch (the crash back-off's reset window). */
  readonly startedAtMs?: number;
  /** The container's readiness as last reported. */
  readonly ready?: boolean;
  /** Set once the driver saw the process exit (with this code). */
  readonly exitCode?: number;
}

export interface StaleCleanup {
  /** Pids that were alive, verified as ours, and sent SIGKILL. */
  readonly killed: readonly number[];
  /** Pid files removed (every leftover file, killed or not). */
  readonly removedFiles: number;
}

const PID_SUFFIX = '.pid';

export function pidDir(stateDir: string): string {
  return join(stateDir, 'pids');
}

/** Uids and container names are encoded so no name can escape the directory. */
export function pidFilePath(stateDir: string, uid: string, container: string): string {
  return join(pidDir(stateDir), `${encodeURIComponent(uid)}.${encodeURIComponent(container)}${PID_SUFFIX}`);
}

/** The argv of a live process, or undefined when /proc/<pid> is gone. */
export function readProcCmdline(pid: number): readonly string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const parts = raw.split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return undefined; // no such process (or no /proc): nothing to verify against
  }
}

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly startTime: string;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself hold spaces. */
function readProcStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process is gone
  }
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5); pgrp is field 5, starttime field 22.
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgrp)) return undefined;
  return { state, pgrp, startTime };
}

let cachedBootId: string | undefined;

/** This boot's id, or undefined without /proc. */
export function bootId(): string | undefined {
  if (cachedBootId !== undefined) return cachedBootId;
  try {
    cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined; // no /proc: start times alone identify processes
  }
  return cachedBootId;
}

/** The record of a process just spawned: its identity read from /proc now. */
export function newPidRecord(pid: number, cmdline: readonly string[], extra: Omit<PidRecord, 'pid' | 'cmdline' | 'startTime' | 'bootId'>): PidRecord {
  const startTime = readProcStat(pid)?.startTime;
  const boot = bootId();
  return { pid, cmdline, ...(startTime !== undefined ? { startTime } : {}), ...(boot !== undefined ? { bootId: boot } : {}), ...extra };
}

export function writePidFile(stateDir: string, uid: string, container: string, record: PidRecord): void {
  mkdirSync(pidDir(stateDir), { recursive: true });
  const path = pidFilePath(stateDir, uid, container);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, path);
}

/** The record of a container, or undefined when there is none (or it is unreadable). */
export function readPidFile(stateDir: string, uid: string, container: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(pidFilePath(stateDir, uid, container), 'utf8');
  } catch {
    return undefined; // no file: the container never started here
  }
  return parseRecord(text);
}

export function removePidFile(stateDir: string, uid: string, container: string): void {
  rmSync(pidFilePath(stateDir, uid, container), { force: true });
}

function parseRecord(text: string): PidRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // a torn or foreign file: removed without killing anything
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, cmdline, startTime, bootId: boot, restartCount, startedAtMs, ready, exitCode } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) return undefined;
  if (!Array.isArray(cmdline) || !cmdline.every((a): a is string => typeof a === 'string')) return undefined;
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  return {
    pid,
    cmdline,
    ...(typeof startTime === 'string' ? { startTime } : {}),
    ...(typeof boot === 'string' ? { bootId: boot } : {}),
    ...(count(restartCount) ? { restartCount } : {}),
    ...(count(startedAtMs) ? { startedAtMs } : {}),
    ...(typeof ready === 'boolean' ? { ready } : {}),
    ...(typeof exitCode === 'number' && Number.isInteger(exitCode) ? { exitCode } : {}),
  };
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/**
 * True when the live process `pid` is the one the record describes. With a recorded start
 * time, boot id + pid + start time identify a process exactly (a reused pid starts later; the
 * check survives a shell that exec'd into another program); without one, the command line must
 * match. A zombie is not alive: it only waits for its parent to reap it.
 */
export function isRecordedProcess(record: PidRecord): boolean {
  const stat = readProcStat(record.pid);
  if (stat === undefined || stat.state === 'Z') return false;
  if (record.bootId !== undefined && record.bootId !== bootId()) return false;
  if (record.startTime !== undefined) return stat.startTime === record.startTime;
  const cmdline = readProcCmdline(record.pid);
  return cmdline !== undefined && sameArgv(cmdline, record.cmdline);
}

/**
 * True when `pid` may still be signalled as the process group of the recorded process after
 * that process ended: unless the pid now belongs to another process that leads its own group
 * (a reused pid; while members of the old group live, the kernel does not reuse their group's id).
 */
export function mayKillRecordedGroup(record: PidRecord): boolean {
  const stat = readProcStat(record.pid);
  if (stat === undefined || stat.pgrp !== record.pid) return true;
  return record.startTime !== undefined && stat.startTime === record.startTime;
}

function killVerified(pid: number, log: Logger): boolean {
  const stat = readProcStat(pid);
  // A child the driver spawned leads its own process group; kill the group so forked
  // grandchildren go too. Anything else gets only the pid.
  const target = stat !== undefined && stat.pgrp === pid ? -pid : pid;
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch (err) {
    log.warn({ err, pid }, 'stale process could not be killed');
    return false;
  }
}

/** What a cleanup leaves alone: the driver's own live children, and the files of containers it holds. */
export interface CleanupKeep {
  readonly pids: ReadonlySet<number>;
  readonly files?: ReadonlySet<string>;
}

const KILL_WAIT_MS = 5_000;
const KILL_POLL_MS = 20;

/** Resolves once none of `pids` is alive (a zombie counts as gone), or after KILL_WAIT_MS. */
async function waitGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const alive = pids.filter((pid) => {
      const stat = readProcStat(pid);
      return stat !== undefined && stat.state !== 'Z';
    });
    if (alive.length === 0 || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, KILL_POLL_MS));
  }
}

/**
 * Kills the processes named in leftover pid files (those `keep` does not name), after checking
 * each is still the process the file names, waits until they are gone (so a port they held is
 * free for what starts next), and removes the files.
 */
export async function cleanupStalePidFiles(stateDir: string, log: Logger, keep: CleanupKeep): Promise<StaleCleanup> {
  let names: string[];
  try {
    names = readdirSync(pidDir(stateDir));
  } catch {
    return { killed: [], removedFiles: 0 }; // no pid directory: a first run
  }
  const killed: number[] = [];
  let removedFiles = 0;
  for (const name of names) {
    const path = join(pidDir(stateDir), name);
    if (!name.endsWith(PID_SUFFIX)) {
      if (name.endsWith(`${PID_SUFFIX}.tmp`)) rmSync(path, { force: true });
      continue;
    }
    if (keep.files?.has(path) === true) continue;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      log.warn({ err, file: path }, 'pid file unreadable');
      continue;
    }
    const record = parseRecord(text);
    if (record !== undefined && keep.pids.has(record.pid)) continue;
    if (record === undefined) {
      log.warn({ file: path }, 'pid file malformed; removed');
    } else if (isRecordedProcess(record)) {
      if (killVerified(record.pid, log)) {
        killed.push(record.pid);
        log.info({ pid: record.pid, cmdline: record.cmdline, file: path }, 'stale process killed');
      }
    } else {
      log.debug({ pid: record.pid, file: path }, 'stale pid file names no live process of ours');
    }
    rmSync(path, { force: true });
    removedFiles++;
  }
  await waitGone(killed);
  return { killed, removedFiles };
}
