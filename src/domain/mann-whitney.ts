/**
 * The Mann-Whitney U test (Wilcoxon rank-sum), as Kayenta's judge uses it to compare a canary's
 * metric with the baseline's: it assumes no distribution, so a few slow outliers do not decide.
 * Normal approximation with tie correction and continuity correction; fine from ~8 points a side.
 */
export interface MannWhitneyResult {
  u: number;
  /** Two-sided p-value: how likely samples this different are if both sides behave the same. */
  pValue: number;
  /** Hodges-Lehmann estimate of how far the first sample is shifted from the second (median of pairwise differences). */
  shift: number;
}

export function mannWhitneyU(first: number[], second: number[]): MannWhitneyResult {
  const n1 = first.length;
  const n2 = second.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('Mann-Whitney needs at least one value on each side');
  const all = [...first.map((value) => ({ value, side: 0 })), ...second.map((value) => ({ value, side: 1 }))].sort(
    (a, b) => a.value - b.value,
  );
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let start = 0; start < all.length;) {
    let end = start;
    while (end + 1 < all.length && all[end + 1].value === all[start].value) end++;
    const rank = (start + end) / 2 + 1;
    for (let index = start; index <= end; index++) ranks[index] = rank;
    const ties = end - start + 1;
    tieTerm += ties ** 3 - ties;
    start = end + 1;
  }
  const rankSum = all.reduce((sum, entry, index) => (entry.side === 0 ? sum + ranks[index] : sum), 0);
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const pValue =
    variance <= 0 ? 1 : Math.min(1, 2 * (1 - standardNormalCdf((Math.abs(u - mean) - 0.5) / Math.sqrt(variance))));
  return { u, pValue: Math.max(0, pValue), shift: hodgesLehmann(first, second) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function hodgesLehmann(first: number[], second: number[]): number {
  const differences: number[] = [];
  for (const a of first) for (const b of second) differences.push(a - b);
  return median(differences);
}

/** Φ(x), from erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7). */
function standardNormalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
