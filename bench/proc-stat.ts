// CPU time and resident memory (now and peak) of a process, from /proc (Linux).

import { readFile } from 'node:fs/promises';

/** utime + stime of `pid`, in clock ticks (see clockTicksPerSecond). */
export async function cpuTicks(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident set size of `pid` in bytes (VmRSS). */
export async function rssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Peak resident set size of `pid` since it started, in bytes (VmHWM). */
export async function peakRssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}
