// The process driver's side of container output (the files and their reading are
// container-output.ts): each process is started with its stdout and stderr appended to the
// container's files, the driver follows those files through the poller while the pod runs (an
// adopted container from their end: what it wrote while no agent ran stays in the files), and a
// pod's folder is removed with the pod, or once no pod the driver holds or wants names it.

import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputStream } from './container-output.js';
import { containerLogPath, podLogDir } from './container-output.js';
import type { ContainerRun, DriverContext, PodRun } from './container-run.js';
import type { Poller } from './poller.js';

const STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];

/**
 * Opens the container's stdout and stderr files for appending, creating the pod's folder. The
 * caller closes both once the child holds its own copies; on a failure nothing stays open.
 */
export function openOutputFiles(stateDir: string, uid: string, container: string): readonly [number, number] {
  mkdirSync(podLogDir(stateDir, uid), { recursive: true });
  const stdout = openSync(containerLogPath(stateDir, uid, container, 'stdout'), 'a');
  try {
    return [stdout, openSync(containerLogPath(stateDir, uid, container, 'stderr'), 'a')];
  } catch (err) {
    closeSync(stdout);
    throw err;
  }
}

/** Follows the container's files, from their start, or from their end (`fromEnd`); once. */
export function follow(ctx: Pick<DriverContext, 'stateDir' | 'poller'>, run: PodRun, c: ContainerRun, fromEnd: boolean): void {
  if (c.followers.length > 0) return;
  for (const stream of STREAMS) {
    const path = containerLogPath(ctx.stateDir, run.pod.uid, c.spec.name, stream);
    let offset = 0;
    if (fromEnd) {
      try {
        offset = statSync(path).size;
      } catch {
        offset = 0; // no file yet
      }
    }
    const follower = c.output.follow(path, stream, offset);
    c.followers.push(follower);
    ctx.poller.addFollower(follower);
  }
}

/** Logs what is left in the container's files and stops following them. */
export function unfollow(poller: Poller, c: ContainerRun): void {
  for (const f of c.followers) {
    f.drain();
    f.close();
    poller.removeFollower(f);
  }
  c.followers.length = 0;
}

export function removePodLogs(stateDir: string, uid: string): void {
  rmSync(podLogDir(stateDir, uid), { recursive: true, force: true });
}

/** Removes the log folders of pods for which `kept(uid)` is false. */
export function removeOrphanLogs(stateDir: string, kept: (uid: string) => boolean): void {
  const root = join(stateDir, 'logs');
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return; // no logs folder yet
  }
  for (const name of names) {
    let uid: string;
    try {
      uid = decodeURIComponent(name);
    } catch {
      uid = name; // not a folder of ours: named by no uid
    }
    if (!kept(uid)) rmSync(join(root, name), { recursive: true, force: true });
  }
}
