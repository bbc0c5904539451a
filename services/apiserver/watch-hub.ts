// The watch side of the API: every change the read model serves, as a WatchEvent with the
// resourceVersion (log sequence) it became visible at, kept in a bounded buffer so that a watch
// from resourceVersion N replays everything after N, then follows live.

import type { ResourceName, StoredObject } from './stored-object.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeRecord {
  readonly rv: number;
  readonly resource: ResourceName;
  readonly type: WatchEventType;
  readonly stored: StoredObject;
}

export type ChangeListener = (change: ChangeRecord) => void;

export interface SinceResult {
  readonly ok: boolean;
  readonly changes: readonly ChangeRecord[];
  /** The oldest resourceVersion a watch may start from. */
  readonly floor: number;
}

export interface WatchHub {
  /** Records changes (in resourceVersion order) and tells every listener. */
  publish(changes: readonly ChangeRecord[]): void;
  /** Changes after `rv` still in the buffer; not ok when `rv` is older than the buffer reaches. */
  since(rv: number): SinceResult;
  subscribe(listener: ChangeListener): () => void;
  listenerCount(): number;
}

export function createWatchHub(floor: number, capacity = 50_000): WatchHub {
  let buffer: ChangeRecord[] = [];
  let oldest = floor;
  const listeners = new Set<ChangeListener>();
  return {
    publish(changes) {
      if (changes.length === 0) return;
      buffer.push(...changes);
      if (buffer.length > capacity) {
        // Drop the older half; a watch from before what is left must relist (410 Expired).
        const drop = buffer.length - Math.floor(capacity / 2);
        const last = buffer[drop - 1];
        buffer = buffer.slice(drop);
        // Every change after the last dropped one's resourceVersion is still here.
        if (last) oldest = Math.max(oldest, last.rv);
      }
      for (const change of changes) for (const l of listeners) l(change);
    },
    since(rv) {
      if (rv < oldest) return { ok: false, changes: [], floor: oldest };
      let lo = 0;
      let hi = buffer.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((buffer[mid]?.rv ?? 0) <= rv) lo = mid + 1;
        else hi = mid;
      }
      return { ok: true, changes: buffer.slice(lo), floor: oldest };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listenerCount: () => listeners.size,
  };
}
