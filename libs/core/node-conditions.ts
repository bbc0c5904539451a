// Node pressure conditions from measured readings, as the kubelet's eviction manager derives
// MemoryPressure, DiskPressure and PIDPressure from its eviction signals (pkg/kubelet/eviction:
// memory.available, nodefs.available, pid.available), and the taints the node lifecycle
// controller puts on a node with those conditions (TaintNodesByCondition). PURE.

import type { Taint } from '../model/types.js';

export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

/** The kubelet's eviction signals this agent measures. */
export type PressureSignal = 'memory.available' | 'nodefs.available' | 'pid.available';
export const PRESSURE_SIGNALS: readonly PressureSignal[] = ['memory.available', 'nodefs.available', 'pid.available'];

/** Which taint each signal puts on the node while it is under its threshold. */
export const PRESSURE_TAINT_KEYS: Readonly<Record<PressureSignal, string>> = {
  'memory.available': TAINT_MEMORY_PRESSURE,
  'nodefs.available': TAINT_DISK_PRESSURE,
  'pid.available': TAINT_PID_PRESSURE,
};

/** How much of a resource is left, and how much there is in all (same unit). */
export interface SignalReading {
  readonly available: number;
  readonly capacity: number;
}

/**
 * One measurement of the machine. A signal left out was not measurable (no /proc, say): its
 * condition keeps whatever it was.
 */
export interface NodeReadings {
  /** Bytes: /proc/meminfo MemAvailable of MemTotal. */
  readonly memory?: SignalReading;
  /** Bytes: free (to unprivileged users) of total, on the filesystem holding the agent's DATA_DIR. */
  readonly nodefs?: SignalReading;
  /** Process ids: pid_max − running processes, of pid_max. */
  readonly pids?: SignalReading;
}

/** An eviction threshold: an absolute amount (`100Mi`, `1000`) or a share of capacity (`10%`). */
export type Threshold =
  | { readonly kind: 'quantity'; readonly value: number }
  | { readonly kind: 'percentage'; readonly percent: number };

export interface PressureThresholds {
  readonly 'memory.available': Threshold;
  readonly 'nodefs.available': Threshold;
  readonly 'pid.available': Threshold;
  /**
   * Hysteresis, as a fraction of each threshold: a condition that is on clears only once the
   * available amount is back at threshold × (1 + recoveryMargin), so a reading that hovers at
   * the threshold does not flap the taint (the role the kubelet's eviction-minimum-reclaim and
   * pressure transition period play).
   */
  readonly recoveryMargin: number;
}

/**
 * The kubelet's default hard eviction thresholds on Linux (`memory.available<100Mi`,
 * `nodefs.available<10%`); the kubelet has no default for pid.available, so this takes 5%, the
 * default of its other free-count signal (`nodefs.inodesFree<5%`).
 */
export const DEFAULT_PRESSURE_THRESHOLDS: PressureThresholds = {
  'memory.available': { kind: 'quantity', value: 100 * 1024 * 1024 },
  'nodefs.available': { kind: 'percentage', percent: 10 },
  'pid.available': { kind: 'percentage', percent: 5 },
  recoveryMargin: 0.1,
};

const SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY_RE = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** A Kubernetes resource quantity without sign or exponent (`100Mi`, `1Gi`, `500M`, `1000`), or undefined. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY_RE.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SUFFIXES[m[2] ?? ''] ?? 1);
}

export type ThresholdParse = { readonly ok: true; readonly threshold: Threshold } | { readonly ok: false; readonly error: string };

/** An eviction threshold value as the kubelet's `--eviction-hard` takes it: a quantity or `N%`. */
export function parseThreshold(text: string): ThresholdParse {
  const t = text.trim();
  if (t.endsWith('%')) {
    const n = Number(t.slice(0, -1));
    if (t.length === 1 || !Number.isFinite(n) || n < 0 || n > 100) {
      return { ok: false, error: `invalid percentage ${JSON.stringify(text)}: expected 0% to 100%` };
    }
    return { ok: true, threshold: { kind: 'percentage', percent: n } };
  }
  const q = parseQuantity(t);
  if (q === undefined) return { ok: false, error: `invalid quantity ${JSON.stringify(text)}: expected e.g. 100Mi, 1Gi, 500M, 1000 or 10%` };
  return { ok: true, threshold: { kind: 'quantity', value: q } };
}

/** The amount a threshold stands for on a resource of this capacity. */
export function thresholdAmount(threshold: Threshold, capacity: number): number {
  return threshold.kind === 'quantity' ? threshold.value : (capacity * threshold.percent) / 100;
}

const READING_OF: Readonly<Record<PressureSignal, keyof NodeReadings>> = {
  'memory.available': 'memory',
  'nodefs.available': 'nodefs',
  'pid.available': 'pids',
};

/**
 * Whether a signal is under pressure now. On: available < threshold (the kubelet's `<`).
 * Already on: stays on until available ≥ threshold × (1 + recoveryMargin). Not measured: as it was.
 */
export function underPressure(
  signal: PressureSignal,
  readings: NodeReadings,
  thresholds: PressureThresholds,
  wasUnderPressure: boolean,
): boolean {
  const reading = readings[READING_OF[signal]];
  if (!reading) return wasUnderPressure;
  const limit = thresholdAmount(thresholds[signal], reading.capacity);
  if (reading.available < limit) return true;
  // 12 significant digits: 100Mi × 1.1 is 110Mi, not 110Mi and a rounding error.
  const clearAt = Number((limit * (1 + thresholds.recoveryMargin)).toPrecision(12));
  return wasUnderPressure && reading.available < clearAt;
}

/**
 * The agent's condition taints for these readings: `<pressure key>:NoSchedule` for every signal
 * under its threshold, sorted by key. `current` is what the agent last published (hysteresis).
 */
export function pressureTaints(
  readings: NodeReadings,
  thresholds: PressureThresholds = DEFAULT_PRESSURE_THRESHOLDS,
  current: readonly Taint[] = [],
): Taint[] {
  const out: Taint[] = [];
  for (const signal of PRESSURE_SIGNALS) {
    const key = PRESSURE_TAINT_KEYS[signal];
    const was = current.some((t) => t.key === key && t.effect === 'NoSchedule');
    if (underPressure(signal, readings, thresholds, was)) out.push({ key, effect: 'NoSchedule' });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}
