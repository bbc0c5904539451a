// Expectations (Kubernetes' ControllerExpectations): commands a controller has published for a
// DaemonSet but not yet seen come back through the log. While any are outstanding, the
// DaemonSet is not reconciled again, so nothing is created twice while the log catches up.
// They expire after a TTL in case an echo is never seen. PURE: time is an argument.

import type { DsKey } from './state.js';

export const EXPECTATIONS_TTL_MS = 5 * 60_000;

export interface Expectations {
  readonly pending: Map<DsKey, { ids: Set<string>; setMs: number }>;
  /** Command id → DaemonSet it was issued for, to clear it when seen. */
  readonly byId: Map<string, DsKey>;
}

export function newExpectations(): Expectations {
  return { pending: new Map(), byId: new Map() };
}

export function expect(x: Expectations, key: DsKey, ids: readonly string[], nowMs: number): void {
  if (ids.length === 0) return;
  let entry = x.pending.get(key);
  if (!entry) x.pending.set(key, (entry = { ids: new Set(), setMs: nowMs }));
  entry.setMs = nowMs;
  for (const id of ids) {
    entry.ids.add(id);
    x.byId.set(id, key);
  }
}

/** A command came back through the log. Returns the DaemonSet whose expectations it satisfied, if any. */
export function observe(x: Expectations, id: string): DsKey | undefined {
  const key = x.byId.get(id);
  if (key === undefined) return undefined;
  x.byId.delete(id);
  const entry = x.pending.get(key);
  entry?.ids.delete(id);
  if (entry && entry.ids.size === 0) x.pending.delete(key);
  return key;
}

/** Drop the expectations of commands that were never published (the publish failed). */
export function lower(x: Expectations, ids: readonly string[]): void {
  for (const id of ids) observe(x, id);
}

export function satisfied(x: Expectations, key: DsKey, nowMs: number): boolean {
  const entry = x.pending.get(key);
  if (!entry) return true;
  if (nowMs - entry.setMs > EXPECTATIONS_TTL_MS) {
    for (const id of entry.ids) x.byId.delete(id);
    x.pending.delete(key);
    return true;
  }
  return false;
}

export function clearFor(x: Expectations, key: DsKey): void {
  const entry = x.pending.get(key);
  if (!entry) return;
  for (const id of entry.ids) x.byId.delete(id);
  x.pending.delete(key);
}
