import { compileExpression } from 'filtrex';
import type { SpecProblem } from './errors';
import type { ReleaseSpec } from './spec';

/**
 * Success and failure conditions that do not compile, found when the spec is read rather than at
 * the first measurement of a running release. (Kept out of spec.ts: the workflow bundle imports
 * the schema and has no use for an expression compiler.)
 */
export function conditionProblems(spec: ReleaseSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const [name, template] of Object.entries(spec.analysis)) {
    if (template.provider !== 'prometheus') continue;
    const conditions: [string, string | undefined][] = [
      ['successCondition', template.successCondition],
      ['failureCondition', template.failureCondition],
    ];
    for (const [field, expression] of conditions) {
      if (expression === undefined) continue;
      try {
        const outcome: unknown = compileExpression(expression)({ result: 0 });
        if (outcome instanceof Error) throw outcome;
      } catch (err) {
        problems.push({
          path: `analysis.${name}.${field}`,
          message: `"${expression}" is not a condition over result: ${(err as Error).message.split('\n')[0]}; write it like "result < 0.01"`,
        });
      }
    }
  }
  return problems;
}
