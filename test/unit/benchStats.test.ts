/**
 * The statistics every benchmark module reports (bench/stats.ts): a median, a percentile and
 * a rounded figure mean the same in each row of BENCHMARKS.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, percentile, round } from '../../bench/stats';

describe('bench statistics', () => {
  it('median: the middle value, the mean of the two middle ones for an even count', () => {
    assert.equal(median([7]), 7);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('median and percentile leave the measured values in their order', () => {
    const times = [5, 1, 4, 2, 3];
    median(times);
    percentile(times, 95);
    assert.deepEqual(times, [5, 1, 4, 2, 3]);
  });

  it('percentile: nearest rank, always one of the values measured', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    assert.equal(percentile(hundred, 95), 95);
    assert.equal(percentile(hundred, 50), 50);
    assert.equal(percentile(hundred, 100), 100);
    assert.equal(percentile(hundred, 0), 1);
    const forty = Array.from({ length: 40 }, (_, i) => i + 0.5);
    for (const p of [1, 10, 33, 50, 66, 90, 95, 99, 100]) {
      const value = percentile(forty, p);
      assert.ok(forty.includes(value), `p${p} = ${value} is not a measured value`);
      const atOrBelow = forty.filter((v) => v <= value).length;
      assert.ok(
        atOrBelow >= (p / 100) * forty.length,
        `p${p}: only ${atOrBelow} values ≤ ${value}`,
      );
      assert.ok(
        forty.filter((v) => v < value).length < (p / 100) * forty.length,
        `p${p}: ${value} is not the smallest such value`,
      );
    }
    assert.ok(Number.isNaN(percentile([], 95)));
  });

  it('round: to the digits asked for, one when none are', () => {
    assert.equal(round(12.345), 12.3);
    assert.equal(round(12.345, 2), 12.35);
    assert.equal(round(0.0004, 3), 0);
    assert.equal(round(1234.5, 0), 1235);
  });
});
