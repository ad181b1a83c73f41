import { messageOf } from '../../src/domain/failures';

/**
 * Tests wait for states, never for time: `eventually` polls until `check` returns a value (not
 * undefined) and returns it. The deadline only turns a hang into a message that says what never
 * happened; it is generous (jest's own timeout is longer) so that a busy machine is never a failure.
 */
export const EVENTUALLY_DEADLINE_MS = 300_000;

export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = EVENTUALLY_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${messageOf(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
