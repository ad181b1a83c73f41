import { mannWhitneyU } from '../../src/domain/mann-whitney';

describe('the Mann-Whitney U test', () => {
  it('finds a tenfold latency regression significant and estimates its shift', () => {
    const stable = [5, 6, 5.5, 4.8, 5.2, 6.1, 5.9, 5.3];
    const canary = stable.map((value) => value * 10);
    const result = mannWhitneyU(canary, stable);
    expect(result.pValue).toBeLessThan(0.01);
    expect(result.shift).toBeGreaterThan(40);
  });

  it('finds no difference between two samples of the same values', () => {
    const sample = [5, 6, 5.5, 4.8, 5.2, 6.1, 5.9, 5.3];
    const result = mannWhitneyU([...sample].reverse(), sample);
    expect(result.pValue).toBeGreaterThan(0.9);
    expect(result.shift).toBe(0);
  });

  it('computes U and the two-sided p of the normal approximation with continuity correction (by hand: U=2, z=10/4.787, p≈0.0367)', () => {
    const result = mannWhitneyU([1, 2, 3, 4, 5], [3.5, 6, 7, 8, 9]);
    expect(result.u).toBe(2);
    expect(result.pValue).toBeCloseTo(0.0367, 3);
  });

  it('gives p = 1 when every value is tied', () => {
    expect(mannWhitneyU([1, 1, 1], [1, 1, 1]).pValue).toBe(1);
  });
});
