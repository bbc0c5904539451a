// `dsctl events`: kubectl events' table (LAST SEEN TYPE REASON OBJECT MESSAGE), or JSON.

import type { EventRecord } from '../../../libs/core/state.js';
import { translateTimestampSince } from './age.js';
import { GET_TABWRITER, tabwrite } from './table.js';

export interface EventsOptions {
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  /** `ds/NAME`, `daemonset/NAME`, `node/NAME`, `pod/NAME`. */
  readonly for?: string;
  readonly output?: string;
  readonly nowMs: number;
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
    const o = splitObject(e.object);
    if (o.namespace !== undefined && !opts.allNamespaces && o.namespace !== ns) return false;
    if (wantKind && (o.kind !== wantKind || o.name !== wantName)) return false;
    return true;
  });
}

export function renderEvents(events: readonly EventRecord[], opts: EventsOptions): string {
  const rows = filterEvents(events, opts);
  if (opts.output === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rows }, null, 4)}\n`;
  if (!rows.length) return `No events found in ${opts.allNamespaces ? 'any' : (opts.namespace ?? 'default')} namespace.\n`;
  const head = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
  const lines = [head.join('\t')];
  for (const e of rows) {
    const o = splitObject(e.object);
    lines.push(
      [...(opts.allNamespaces ? [o.namespace ?? ''] : []), translateTimestampSince(e.timeMs, opts.nowMs), e.kind, e.reason, `${o.kind}/${o.name}`, e.message].join('\t'),
    );
  }
  return tabwrite(`${lines.join('\n')}\n`, GET_TABWRITER);
}
