import { compileExpression } from 'filtrex';
import { ProviderError } from '../context';

export type Condition = (result: number) => boolean | Error;

/**
 * A success or failure condition over `result`, in filtrex's small expression language: no access
 * to JavaScript, no eval. "result < 0.01", "result >= 0.99 and result <= 1".
 */
export function compileCondition(expression: string, field: string): Condition {
  let compiled: (data: { result: number }) => unknown;
  try {
    compiled = compileExpression(expression);
  } catch (err) {
    throw new ProviderError(
      `${field} "${expression}" is not a valid condition: ${(err as Error).message.split('\n')[0]}; write it like "result < 0.01"`,
      false,
    );
  }
  return (result) => {
    const outcome = compiled({ result });
    if (outcome instanceof Error) return outcome;
    return Boolean(outcome);
  };
}
