// Measuring the real machine for the pressure conditions: what the kubelet's eviction manager
// reads for memory.available, nodefs.available and pid.available, on Linux.

import { readdir, readFile, statfs } from 'node:fs/promises';
import type { NodeReadings, SignalReading } from '../../../libs/core/node-conditions.js';

/** /proc/meminfo: MemAvailable of MemTotal, in bytes; undefined where there is no /proc. */
export async function readMemory(procDir = '/proc'): Promise<SignalReading | undefined> {
  let text: string;
  try {
    text = await readFile(`${procDir}/meminfo`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB$`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const available = kib('MemAvailable');
  const capacity = kib('MemTotal');
  return available !== undefined && capacity !== undefined ? { available, capacity } : undefined;
}

/** The filesystem holding `dir`: blocks free to unprivileged users of all blocks, in bytes. */
export async function readNodefs(dir: string): Promise<SignalReading | undefined> {
  try {
    const s = await statfs(dir);
    return { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize };
  } catch {
    return undefined;
  }
}

/** pid_max − processes (the numeric entries of /proc), of pid_max. */
export async function readPids(procDir = '/proc'): Promise<SignalReading | undefined> {
  try {
    const pidMax = Number((await readFile(`${procDir}/sys/kernel/pid_max`, 'utf8')).trim());
    if (!Number.isInteger(pidMax) || pidMax <= 0) return undefined;
    const running = (await readdir(procDir)).filter((name) => /^\d+$/.test(name)).length;
    return { available: pidMax - running, capacity: pidMax };
  } catch {
    return undefined;
  }
}

/** Every signal this machine lets us measure; `dataDir` names the node filesystem. */
export async function readMachine(dataDir: string): Promise<NodeReadings> {
  const [memory, nodefs, pids] = await Promise.all([readMemory(), readNodefs(dataDir), readPids()]);
  return { ...(memory ? { memory } : {}), ...(nodefs ? { nodefs } : {}), ...(pids ? { pids } : {}) };
}
