/** What the error budget gate found: open, or closed with a reason a person can act on. */
export interface ErrorBudgetReading {
  open: boolean;
  /** The burn rate, when it could be measured: 1 spends the budget exactly over the SLO period. */
  burnRate?: number;
  reason: string;
  /** false: the burn rate could not be read (Prometheus down, query error); the gate holds and looks again. */
  measured: boolean;
}

/** Burn rate = error ratio / error budget (1 - objective); above the limit, releases hold. */
export function judgeBurnRate(
  errorRatio: number,
  objective: number,
  maxBurnRate: number,
  window: string,
): ErrorBudgetReading {
  const burnRate = errorRatio / (1 - objective);
  const percent = (errorRatio * 100).toPrecision(3);
  if (burnRate > maxBurnRate) {
    return {
      open: false,
      measured: true,
      burnRate,
      reason: `error budget burning ${burnRate.toFixed(1)}x over ${window} (error ratio ${percent}% against an objective of ${objective * 100}%; limit ${maxBurnRate}x)`,
    };
  }
  return {
    open: true,
    measured: true,
    burnRate,
    reason: `error budget burn ${burnRate.toFixed(2)}x over ${window} (limit ${maxBurnRate}x)`,
  };
}
