// Message headers as ordered name/value pairs (what the topology's header rules take) and back.

import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { HeaderPairs } from '../../topology/legacy-layout.js';

export function headerPairs(h: MsgHdrs | undefined): [string, string][] {
  const out: [string, string][] = [];
  if (!h) return out;
  for (const k of h.keys()) for (const v of h.values(k)) out.push([k, v]);
  return out;
}

export function toHeaders(pairs: HeaderPairs): MsgHdrs | undefined {
  if (pairs.length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of pairs) h.append(k, v);
  return h;
}
