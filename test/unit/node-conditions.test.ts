// Pressure conditions from readings: the kubelet's eviction signals (memory.available,
// nodefs.available, pid.available) against thresholds, with hysteresis, to condition taints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_PRESSURE_THRESHOLDS,
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_PID_PRESSURE,
  parseQuantity,
  parseThreshold,
  pressureTaints,
  thresholdAmount,
  type NodeReadings,
  type PressureThresholds,
} from '../../libs/core/node-conditions.js';
import type { Taint } from '../../libs/model/types.js';
import { overlayReadings, parseReadingsOverride } from '../../services/agent/conditions/readings-file.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

/** A healthy machine: 8Gi memory with 4Gi free, 100Gi disk with 50Gi free, 32768 pids with 100 used. */
const healthy: Required<NodeReadings> = {
  memory: { available: 4 * Gi, capacity: 8 * Gi },
  nodefs: { available: 50 * Gi, capacity: 100 * Gi },
  pids: { available: 32768 - 100, capacity: 32768 },
};

const memory: Taint = { key: TAINT_MEMORY_PRESSURE, effect: 'NoSchedule' };
const disk: Taint = { key: TAINT_DISK_PRESSURE, effect: 'NoSchedule' };
const pid: Taint = { key: TAINT_PID_PRESSURE, effect: 'NoSchedule' };

describe('parseQuantity and parseThreshold', () => {
  const quantities: [string, number | undefined][] = [
    ['100Mi', 100 * Mi],
    ['1Gi', Gi],
    ['1.5Gi', 1.5 * Gi],
    ['512Ki', 512 * 1024],
    ['500M', 500e6],
    ['2G', 2e9],
    ['1k', 1000],
    ['1000', 1000],
    ['0', 0],
    ['', undefined],
    ['-1Mi', undefined],
    ['10%', undefined],
    ['1MiB', undefined],
    ['Mi', undefined],
  ];
  for (const [text, want] of quantities) {
    it(`quantity ${JSON.stringify(text)} → ${String(want)}`, () => assert.equal(parseQuantity(text), want));
  }

  it('a percentage is a share of capacity; a quantity is absolute', () => {
    assert.deepEqual(parseThreshold('10%'), { ok: true, threshold: { kind: 'percentage', percent: 10 } });
    assert.deepEqual(parseThreshold('0.5%'), { ok: true, threshold: { kind: 'percentage', percent: 0.5 } });
    assert.deepEqual(parseThreshold('100Mi'), { ok: true, threshold: { kind: 'quantity', value: 100 * Mi } });
    assert.equal(thresholdAmount({ kind: 'percentage', percent: 10 }, 100 * Gi), 10 * Gi);
    assert.equal(thresholdAmount({ kind: 'quantity', value: 100 * Mi }, 100 * Gi), 100 * Mi);
  });

  it('refuses what is neither', () => {
    assert.deepEqual(parseThreshold('101%'), { ok: false, error: 'invalid percentage "101%": expected 0% to 100%' });
    assert.deepEqual(parseThreshold('%'), { ok: false, error: 'invalid percentage "%": expected 0% to 100%' });
    assert.deepEqual(parseThreshold('lots'), { ok: false, error: 'invalid quantity "lots": expected e.g. 100Mi, 1Gi, 500M, 1000 or 10%' });
  });
});

describe('pressureTaints: each threshold and its boundary (kubelet: pressure when available < threshold)', () => {
  const T = DEFAULT_PRESSURE_THRESHOLDS;
  const cases: { name: string; readings: NodeReadings; want: Taint[] }[] = [
    { name: 'a healthy machine has no pressure taint', readings: healthy, want: [] },
    { name: 'memory.available 99Mi < 100Mi → MemoryPressure', readings: { ...healthy, memory: { available: 99 * Mi, capacity: 8 * Gi } }, want: [memory] },
    { name: 'memory.available exactly 100Mi is not pressure', readings: { ...healthy, memory: { available: 100 * Mi, capacity: 8 * Gi } }, want: [] },
    { name: 'memory.available one byte under 100Mi is pressure', readings: { ...healthy, memory: { available: 100 * Mi - 1, capacity: 8 * Gi } }, want: [memory] },
    { name: 'nodefs.available 9% < 10% → DiskPressure', readings: { ...healthy, nodefs: { available: 9 * Gi, capacity: 100 * Gi } }, want: [disk] },
    { name: 'nodefs.available exactly 10% is not pressure', readings: { ...healthy, nodefs: { available: 10 * Gi, capacity: 100 * Gi } }, want: [] },
    { name: 'pid.available under 5% of pid_max → PIDPressure', readings: { ...healthy, pids: { available: 1638, capacity: 32768 } }, want: [pid] },
    { name: 'pid.available at 5% of pid_max is not pressure', readings: { ...healthy, pids: { available: 1638.4, capacity: 32768 } }, want: [] },
    {
      name: 'all three at once, sorted by key',
      readings: { memory: { available: 0, capacity: 8 * Gi }, nodefs: { available: 0, capacity: 100 * Gi }, pids: { available: 0, capacity: 32768 } },
      want: [disk, memory, pid],
    },
    { name: 'no readings at all: no pressure', readings: {}, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(pressureTaints(c.readings, T), c.want));
  }

  it('thresholds are configurable: memory.available<1Gi, nodefs.available<50%, pid.available<32000', () => {
    const custom: PressureThresholds = {
      ...T,
      'memory.available': { kind: 'quantity', value: Gi },
      'nodefs.available': { kind: 'percentage', percent: 50 },
      'pid.available': { kind: 'quantity', value: 32_000 },
    };
    const r: NodeReadings = {
      memory: { available: Gi - 1, capacity: 8 * Gi },
      nodefs: { available: 49 * Gi, capacity: 100 * Gi },
      pids: { available: 31_999, capacity: 32768 },
    };
    assert.deepEqual(pressureTaints(r, custom), [disk, memory, pid]);
    assert.deepEqual(pressureTaints(healthy, custom), []); // 4Gi, exactly 50%, 32668 pids: none under
  });
});

describe('pressureTaints: hysteresis (clears only at threshold × (1 + recoveryMargin))', () => {
  const T = DEFAULT_PRESSURE_THRESHOLDS; // margin 0.1: memory clears at 110Mi, nodefs at 11%
  const mem = (availableMi: number): NodeReadings => ({ ...healthy, memory: { available: availableMi * Mi, capacity: 8 * Gi } });
  const steps: { available: number; want: Taint[] }[] = [
    { available: 150, want: [] },
    { available: 99, want: [memory] }, // on
    { available: 100, want: [memory] }, // back at the threshold: stays on
    { available: 109, want: [memory] }, // inside the margin: stays on
    { available: 110, want: [] }, // at threshold + margin: clears
    { available: 105, want: [] }, // off and above the threshold: stays off
    { available: 99, want: [memory] }, // on again
  ];
  it('a reading walking around 100Mi sets the taint once and clears it once', () => {
    let current: Taint[] = [];
    steps.forEach((step, i) => {
      current = pressureTaints(mem(step.available), T, current);
      assert.deepEqual(current, step.want, `step ${i}: ${step.available}Mi`);
    });
  });

  it('a signal that could not be measured keeps its condition', () => {
    assert.deepEqual(pressureTaints({ nodefs: healthy.nodefs, pids: healthy.pids }, T, [memory]), [memory]);
    assert.deepEqual(pressureTaints({ nodefs: healthy.nodefs, pids: healthy.pids }, T, []), []);
  });

  it('nodefs: 10.5% stays on after pressure and clears at 11%', () => {
    const fs = (percent: number): NodeReadings => ({ ...healthy, nodefs: { available: percent * Gi, capacity: 100 * Gi } });
    assert.deepEqual(pressureTaints(fs(10.5), T, [disk]), [disk]);
    assert.deepEqual(pressureTaints(fs(11), T, [disk]), []);
    assert.deepEqual(pressureTaints(fs(10.5), T, []), []);
  });
});

describe('CONDITIONS_READINGS_FILE (the test and simulation hook)', () => {
  it('lays the file over the machine: quantities or numbers, capacity kept when left out', () => {
    const r = parseReadingsOverride('{"memory":{"available":"50Mi"},"pids":{"available":10,"capacity":1000}}');
    assert.ok(r.ok);
    assert.deepEqual(overlayReadings(healthy, r.override), {
      memory: { available: 50 * Mi, capacity: 8 * Gi },
      nodefs: healthy.nodefs,
      pids: { available: 10, capacity: 1000 },
    });
    assert.deepEqual(pressureTaints(overlayReadings(healthy, r.override)), [memory, pid]);
  });

  it('refuses unknown signals and bad amounts with the reason', () => {
    assert.deepEqual(parseReadingsOverride('{"mem":{}}'), { ok: false, error: 'unknown signal "mem": expected memory, nodefs, pids' });
    assert.deepEqual(parseReadingsOverride('{"memory":{"available":"lots"}}'), {
      ok: false,
      error: 'memory.available: expected a non-negative number or a quantity such as 50Mi, not "lots"',
    });
    assert.deepEqual(parseReadingsOverride('[1]'), { ok: false, error: 'expected a JSON object' });
  });
});
