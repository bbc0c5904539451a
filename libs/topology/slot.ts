// Slot of a DaemonSet (or a node): FNV-1a 32 of `namespace/name` modulo the slot count.
// The slot count is fixed when the topology is created; changing it would move every key.

export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function dsSlot(namespace: string, name: string, slots: number): number {
  return fnv1a32(`${namespace}/${name}`) % slots;
}

/** The slot whose owner judges this node's liveness. */
export function nodeSlot(node: string, slots: number): number {
  return fnv1a32(`node/${node}`) % slots;
}
