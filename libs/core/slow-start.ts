// Kubernetes' slowStartBatch (pkg/controller/controller_utils.go): creates go out in batches of
// 1, 2, 4, 8, …; a batch with a failure stops the rest, so a fault (a full disk on the bus, a
// refused write) costs one batch rather than the whole fleet's worth. PURE.

export const SLOW_START_INITIAL_BATCH = 1;

/** The batch sizes for `count` items: 1, 2, 4, … with the last one cut to what remains. */
export function slowStartBatches(count: number, initial = SLOW_START_INITIAL_BATCH): number[] {
  const out: number[] = [];
  let remaining = count;
  for (let size = Math.max(1, initial); remaining > 0; size *= 2) {
    const batch = Math.min(size, remaining);
    out.push(batch);
    remaining -= batch;
  }
  return out;
}
