/** The part of a strategy that names approvers (structural, so this file depends on nothing). */
export interface StrategyWithApprovals {
  canary?: { steps: { approval?: { from: string[] } }[] };
  blueGreen?: { approval?: { from: string[] } };
}

/** Everyone the strategy's approval steps name: who approves the contract when the spec does not say. */
export function strategyApprovers(strategy: StrategyWithApprovals): string[] {
  const steps = [
    ...(strategy.canary?.steps.flatMap((step) => (step.approval ? [step.approval] : [])) ?? []),
    ...(strategy.blueGreen?.approval ? [strategy.blueGreen.approval] : []),
  ];
  return [...new Set(steps.flatMap((step) => step.from))];
}
