import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTargets } from '../../bench/result.js';
import { shardsTargets, type ShardsFigures } from '../../bench/shards-targets.js';

/** Every goal met, with room to spare. */
const GOOD: ShardsFigures = {
  cpuTotal1: 10,
  cpuTotal4: 11,
  peakRss1Mb: 200,
  peakRss4Mb: 70,
  logReadRatio4: 0.3,
  handoverP99Ms: 15_500,
  leaseTtlMs: 15_000,
  converge1S: 5,
  converge4S: 4,
};

describe('shardsTargets (#14 goals for the shards benchmark)', () => {
  it('lists the five goals in the issue order, each met on good figures', () => {
    const checks = shardsTargets(GOOD);
    assert.deepEqual(
      checks.map((c) => c.goal),
      [
        'total controller CPU with 4 ≤ 1.3 × that of 1',
        'peak RSS of the largest of 4 ≤ 0.4 × that of 1',
        'messages read by the busiest of 4 ≤ 0.4 of the log',
        'handover p99 ≤ lease TTL + 1 s',
        'converge with 4 ≤ 1.2 × converge with 1',
      ],
    );
    assert.deepEqual(
      checks.map((c) => c.verdict),
      ['met', 'met', 'met', 'met', 'met'],
    );
  });

  it('derives each limit from the figure it is relative to', () => {
    assert.deepEqual(
      shardsTargets(GOOD).map((c) => [c.actual, c.limit]),
      [
        [11, 13],
        [70, 80],
        [0.3, 0.4],
        [15_500, 16_000],
        [4, 6],
      ],
    );
  });

  const missed: [string, Partial<ShardsFigures>, number][] = [
    ['CPU of 4 above 1.3 × that of 1', { cpuTotal4: 13.5 }, 0],
    ['largest RSS of 4 above 0.4 × that of 1', { peakRss4Mb: 81 }, 1],
    ['busiest of 4 read more than 0.4 of the log', { logReadRatio4: 0.41 }, 2],
    ['handover p99 beyond TTL + 1 s', { handoverP99Ms: 16_001 }, 3],
    ['converge with 4 above 1.2 × with 1', { converge4S: 6.5 }, 4],
  ];
  for (const [what, change, index] of missed) {
    it(`${what}: that goal alone is missed`, () => {
      const verdicts = shardsTargets({ ...GOOD, ...change }).map((c) => c.verdict);
      assert.deepEqual(
        verdicts,
        verdicts.map((_, i) => (i === index ? 'missed' : 'met')),
      );
    });
  }

  it('meets a goal exactly at its limit (≤)', () => {
    const checks = shardsTargets({ ...GOOD, cpuTotal4: 13, peakRss4Mb: 80, logReadRatio4: 0.4, handoverP99Ms: 16_000, converge4S: 6 });
    assert.deepEqual(
      checks.map((c) => c.verdict),
      ['met', 'met', 'met', 'met', 'met'],
    );
  });

  const unknown: [string, Partial<ShardsFigures>, number][] = [
    ['no log-read figure (the controller does not log it)', { logReadRatio4: Number.NaN }, 2],
    ['no 1-controller RSS', { peakRss1Mb: Number.NaN }, 1],
    ['no handover trials', { handoverP99Ms: Number.NaN }, 3],
    ['no lease TTL', { leaseTtlMs: Number.NaN }, 3],
  ];
  for (const [what, change, index] of unknown) {
    it(`${what}: that goal is unknown, not missed`, () => {
      assert.equal(shardsTargets({ ...GOOD, ...change })[index]!.verdict, 'unknown');
    });
  }

  it('prints one line per goal with its verdict, figure and limit', () => {
    const text = formatTargets(shardsTargets({ ...GOOD, cpuTotal4: 14, logReadRatio4: Number.NaN }));
    const lines = text.split('\n');
    assert.equal(lines.length, 5);
    assert.equal(lines[0], '  MISSED   total controller CPU with 4 ≤ 1.3 × that of 1: 14.0 cpu s (limit 13.0 = 1.3 × 10.0)');
    assert.equal(lines[2], '  unknown  messages read by the busiest of 4 ≤ 0.4 of the log: - ratio (limit 0.40)');
    assert.equal(lines[3], '  met      handover p99 ≤ lease TTL + 1 s: 15,500 ms (limit 16,000 = 15,000 + 1,000)');
  });
});
