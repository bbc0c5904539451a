// PID files of the process driver: `<stateDir>/pids/<uid>.<container>.pid`, one per running
// child, so an agent that was kill -9'd can find and end its orphans when it starts again.
// A file holds JSON: { pid, cmdline, startTime? } — cmdline as the argv the driver spawned,
// startTime the process' start time in clock ticks since boot (field 22 of /proc/<pid>/stat).

import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface PidRecord {
  readonly pid: number;
  readonly cmdline: readonly string[];
  readonly startTime?: string;
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

export function writePidFile(stateDir: string, uid: string, container: string, pid: number, cmdline: readonly string[]): void {
  mkdirSync(pidDir(stateDir), { recursive: true });
  const startTime = readProcStat(pid)?.startTime;
  const record: PidRecord = startTime === undefined ? { pid, cmdline } : { pid, cmdline, startTime };
  const path = pidFilePath(stateDir, uid, container);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, path);
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
  const { pid, cmdline, startTime } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) return undefined;
  if (!Array.isArray(cmdline) || !cmdline.every((a): a is string => typeof a === 'string')) return undefined;
  return typeof startTime === 'string' ? { pid, cmdline, startTime } : { pid, cmdline };
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/**
 * True when the live process `pid` is the one the record describes. With a recorded start
 * time, pid + start time identify a process exactly (and survive a shell that exec'd into
 * another program); without one, the command line must match.
 */
export function isRecordedProcess(record: PidRecord): boolean {
  const stat = readProcStat(record.pid);
  if (stat === undefined || stat.state === 'Z') return false;
  if (record.startTime !== undefined) return stat.startTime === record.startTime;
  const cmdline = readProcCmdline(record.pid);
  return cmdline !== undefined && sameArgv(cmdline, record.cmdline);
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

/**
 * Kills the processes named in leftover pid files (skipping pids in `keep`, the driver's own
 * live children) and removes the files.
 */
export function cleanupStalePidFiles(stateDir: string, log: Logger, keep: ReadonlySet<number>): StaleCleanup {
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
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      log.warn({ err, file: path }, 'pid file unreadable');
      continue;
    }
    const record = parseRecord(text);
    if (record !== undefined && keep.has(record.pid)) continue;
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
  return { killed, removedFiles };
}
