import type { z } from 'zod';

/** A schema's definition as zod 4 keeps it; only the parts we walk. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  in?: z.core.$ZodType;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
}

const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def;

/** The field names an object at `path` of `schema` accepts (every variant's, under a union). */
export function fieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  const def = defOf(schema);
  const wrapped = def.innerType ?? def.in;
  if (wrapped) return fieldsAt(wrapped, path);
  if (def.type === 'union' && def.options) return [...new Set(def.options.flatMap((option) => fieldsAt(option, path)))];
  if (def.type === 'intersection' && def.left && def.right)
    return [...fieldsAt(def.left, path), ...fieldsAt(def.right, path)];
  if (path.length === 0) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
  const [head, ...rest] = path;
  if (def.type === 'object' && def.shape) {
    const field = def.shape[String(head)];
    return field ? fieldsAt(field, rest) : [];
  }
  if (def.type === 'array' && def.element) return fieldsAt(def.element, rest);
  if (def.type === 'record' && def.valueType) return fieldsAt(def.valueType, rest);
  return [];
}

/** Edits (insert, delete, replace, swap of neighbours) from a to b, ignoring case. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++)
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[x.length][y.length];
}

/** The known name a mistyped one most likely meant, if one is close enough to be a typo. */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  let best: { name: string; edits: number } | undefined;
  for (const name of known) {
    const edits = distance(typed, name);
    if (!best || edits < best.edits) best = { name, edits };
  }
  // A third of the name may be wrong: "setweight", "templte", "aproval", not "foo" for "bake".
  return best && best.edits <= Math.max(1, Math.floor(typed.length / 3)) ? best.name : undefined;
}
