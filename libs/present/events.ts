// `dsctl events`: kubectl events' table (LAST SEEN TYPE REASON OBJECT MESSAGE), or JSON.

import type { EventRecord } from '../core/state.js';
import { translateTimestampSince } from './age.js';
import { GET_TABWRITER, tabwrite } from './table.js';

export interface EventsOptions {
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  /** `ds/NAME`, `daemonset/NAME`, `node/NAME`, `pod/NAME`. */
  readonly for?: string;
  readonly output?: string;
  readonly nowMs: number;
  /** Only events at or after this time (ms). */
  readonly sinceMs?: number;
  /** Leave out the header (for lines printed while watching). */
  readonly noHeaders?: boolean;
}

const KIND_OF: Record<string, string> = { ds: 'daemonset', daemonset: 'daemonset', daemonsets: 'daemonset', node: 'node', no: 'node', pod: 'pod', po: 'pod' };

/** `daemonset/ns/name` → the object column kubectl shows (`daemonset/name`) and its namespace. */
function splitObject(object: string): { kind: string; namespace?: string; name: string } {
  const parts = object.split('/');
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  return { kind: parts[0]!, name: parts.slice(1).join('/') };
}

export function filterEvents(events: readonly EventRecord[], opts: EventsOptions): EventRecord[] {
  const ns = opts.namespace ?? 'default';
  let wantKind: string | undefined;
  let wantName: string | undefined;
  if (opts.for) {
    const [k, n] = opts.for.split('/');
    wantKind = KIND_OF[(k ?? '').toLowerCase()] ?? k;
    wantName = n;
  }
  return events.filter((e) => {
    if (opts.sinceMs !== undefined && e.timeMs < opts.sinceMs) return false;
    const o = splitObject(e.object);
    if (o.namespace !== undefined && !opts.allNamespaces && o.namespace !== ns) return false;
    if (wantKind && (o.kind !== wantKind || o.name !== wantName)) return false;
    return true;
  });
}

export function renderEvents(events: readonly EventRecord[], opts: EventsOptions): string {
  const rows = filterEvents(events, opts);
  if (opts.output === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rows }, null, 4)}\n`;
  if (!rows.length) return opts.noHeaders ? '' : `No events found in ${opts.allNamespaces ? 'any' : (opts.namespace ?? 'default')} namespace.\n`;
  const head = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
  const lines = [head.join('\t')];
  for (const e of rows) {
    const o = splitObject(e.object);
    lines.push(
      [...(opts.allNamespaces ? [o.namespace ?? ''] : []), translateTimestampSince(e.timeMs, opts.nowMs), e.kind, e.reason, `${o.kind}/${o.name}`, e.message].join('\t'),
    );
  }
  const table = tabwrite(`${lines.join('\n')}\n`, GET_TABWRITER);
  return opts.noHeaders ? table.slice(table.indexOf('\n') + 1) : table;
}

/** `--since 10m` or an RFC 3339 time → epoch ms. */
export function parseSince(text: string, nowMs: number): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (m) return nowMs - Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
