// Deterministic identities: command ids (sent as Nats-Msg-Id), pod names and pod uids.
// The same inputs always give the same id, so a controller that restarts and decides again
// produces the same ids and the server de-duplicates its retries. PURE.

/** cyrb53: a fast 53-bit string hash with a seed; good enough spread for ids (not for security). */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Kubernetes' rand.String alphabet (no vowels, no confusable characters). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function suffix5(text: string): string {
  let n = hash53(text, 7);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += ALPHABET[n % ALPHABET.length];
    n = Math.floor(n / ALPHABET.length);
  }
  return out;
}

/** A UUID-shaped (version 4 layout) id derived from text. */
export function derivedUid(text: string): string {
  const hex = [1, 2, 3, 4]
    .map((seed) => (hash53(text, seed) % 0x100000000).toString(16).padStart(8, '0'))
    .join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface CreateIdentity {
  readonly commandId: string;
  readonly podUid: string;
  /** The seed a pod name is derived from; a name taken already is retried with a salt. */
  readonly nameSeed: string;
}

/** Identity of the `attempt`-th create of a DaemonSet's pod on `node` at template `hash`. */
export function createIdentity(dsUid: string, node: string, hash: string, attempt: number, epoch: number): CreateIdentity {
  const base = `${dsUid}/${node}/${hash}/${attempt}/${epoch}`;
  return {
    commandId: `create-${hash53(base).toString(36)}-${hash53(base, 99).toString(36)}`,
    podUid: derivedUid(base),
    nameSeed: base,
  };
}

/** Kubernetes' generateName: the base is cut to 58 characters so the name stays a DNS label. */
const MAX_GENERATED_BASE = 58;

export function podNameFor(dsName: string, nameSeed: string, salt: number): string {
  const base = `${dsName}-`.slice(0, MAX_GENERATED_BASE);
  return `${base}${suffix5(salt === 0 ? nameSeed : `${nameSeed}#${salt}`)}`;
}

export function deleteCommandId(podUid: string, epoch: number): string {
  const base = `${podUid}/${epoch}`;
  return `delete-${hash53(base).toString(36)}-${hash53(base, 99).toString(36)}`;
}
