// Reading a V8 CPU profile (node --cpu-prof): self time per function, hottest first, so a missed
// target can name what bounds it.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  readonly name: string;
  readonly location: string;
  readonly selfMs: number;
  /** Share of the profile's non-idle time, in percent. */
  readonly percent: number;
}

const IDLE = new Set(['(idle)', '(program)']);

export function hotFunctions(profile: CpuProfile, top = 15): HotFunction[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { name: string; location: string; us: number }>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const dt = profile.timeDeltas[i] ?? 0;
    const f = node.callFrame;
    const name = f.functionName || '(anonymous)';
    if (IDLE.has(name)) return;
    busyUs += dt;
    const location = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${name}@${location}`;
    const entry = selfUs.get(key) ?? { name, location, us: 0 };
    entry.us += dt;
    selfUs.set(key, entry);
  });
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, location: e.location, selfMs: e.us / 1000, percent: busyUs ? (e.us / busyUs) * 100 : 0 }));
}

/** The newest `<service>-<pid>.cpuprofile` in `dir`, if any. */
export async function newestProfile(dir: string, service: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(`${service}-`) && n.endsWith('.cpuprofile'));
  } catch {
    return undefined;
  }
  let best: { path: string; ms: number } | undefined;
  for (const n of names) {
    const path = join(dir, n);
    const ms = (await stat(path)).mtimeMs;
    if (!best || ms > best.ms) best = { path, ms };
  }
  return best?.path;
}

/** Where a scenario's profiles go: <out>/profiles/<scenario>/. */
export function profileDir(outDir: string, scenario: string): string {
  return join(outDir, 'profiles', scenario);
}

/** Lines for a result's notes: the hottest functions of the controller and the fleet. */
export async function profileNotes(dir: string, services: readonly string[] = ['controller', 'fleet']): Promise<string[]> {
  const lines: string[] = [];
  for (const service of services) {
    const path = await newestProfile(dir, service);
    if (!path) {
      lines.push(`no ${service} CPU profile was written in ${dir}`);
      continue;
    }
    const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
    const busyMs = hotFunctions(profile, Number.MAX_SAFE_INTEGER).reduce((sum, h) => sum + h.selfMs, 0);
    lines.push(`${service} CPU profile: ${path}: ${(busyMs / 1000).toFixed(1)} s busy; hottest functions by self time:`);
    lines.push(...hotFunctions(profile, 12).map((h) => `  ${h.percent.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.name} ${h.location}`));
  }
  return lines;
}
