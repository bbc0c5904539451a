// What the numbers were measured on: the machine, Node and nats-server versions.

import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly arch: string;
  readonly kernel: string;
}

export interface Versions {
  readonly node: string;
  readonly natsServer: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    platform: platform(),
    arch: arch(),
    kernel: release(),
  };
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on nearly every Linux). */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
