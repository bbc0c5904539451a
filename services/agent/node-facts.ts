// What the agent knows of its machine: the node's addresses and its capacity, as the kubelet
// reports them in the Node's status (addresses, capacity, allocatable).

import { readFileSync, statfsSync } from 'node:fs';
import { cpus, networkInterfaces, totalmem } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';

/** Kubernetes' default maxPods. */
const MAX_PODS = '110';

/** The interface of the default route with the lowest metric (/proc/net/route), or undefined. */
export function defaultRouteInterface(routeTable: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , , , , metric, mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== '00000000' || mask !== '00000000') continue;
    const m = Number(metric);
    if (best === undefined || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

function isGlobal(a: NetworkInterfaceInfo): boolean {
  return !a.internal && !(a.family === 'IPv6' && /^fe80:/i.test(a.address));
}

/**
 * The node's IPs, primary first: the IPv4 then the global IPv6 address of the interface that
 * holds the default route (the kubelet's ChooseHostInterface, used when no --node-ip is given),
 * else of any interface; 127.0.0.1 on a machine with no other address.
 */
export function hostIPs(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(), routeTable?: string): string[] {
  let table = routeTable;
  if (table === undefined) {
    try {
      table = readFileSync('/proc/net/route', 'utf8');
    } catch {
      table = ''; // no /proc: any interface will do
    }
  }
  const iface = defaultRouteInterface(table);
  const pick = (addresses: readonly NetworkInterfaceInfo[]): string[] => {
    const v4 = addresses.find((a) => a.family === 'IPv4' && isGlobal(a));
    const v6 = addresses.find((a) => a.family === 'IPv6' && isGlobal(a));
    return [v4, v6].filter((a): a is NetworkInterfaceInfo => a !== undefined).map((a) => a.address);
  };
  const preferred = iface === undefined ? [] : pick(interfaces[iface] ?? []);
  if (preferred.length > 0) return preferred;
  const any = pick(Object.values(interfaces).flatMap((list) => list ?? []));
  return any.length > 0 ? any : ['127.0.0.1'];
}

/** cpu, memory, ephemeral-storage (the filesystem holding `dataDir`) and pods, as quantities. */
export function nodeCapacity(dataDir: string): Record<string, string> {
  const capacity: Record<string, string> = {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
  };
  try {
    const fs = statfsSync(dataDir);
    capacity['ephemeral-storage'] = `${Math.floor((Number(fs.blocks) * Number(fs.bsize)) / 1024)}Ki`;
  } catch {
    // no statfs here: the node reports no ephemeral-storage, as a kubelet without its image fs stats
  }
  capacity['pods'] = MAX_PODS;
  return capacity;
}
