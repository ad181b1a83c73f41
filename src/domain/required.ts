/**
 * The value, or an error naming what was missing. For values the code knows are there (a child
 * process's pid after spawn, a row just written): if that belief is ever wrong, the error says
 * which one, instead of a TypeError somewhere later.
 */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}
