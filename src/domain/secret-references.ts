import { SECRET_REF_PATTERN } from './spec';

/** One `env:NAME` in a spec: the worker variable it names, and where the spec uses it. */
export interface SecretReference {
  variable: string;
  /** A dotted path: deploy.env.API_TOKEN */
  path: string;
}

/** Every `env:NAME` a spec uses, so the worker can check them all before anything changes. */
export function secretReferences(value: unknown, path: string[] = []): SecretReference[] {
  if (typeof value === 'string')
    return SECRET_REF_PATTERN.test(value) ? [{ variable: value.slice('env:'.length), path: path.join('.') }] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => secretReferences(item, [...path, String(index)]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => secretReferences(item, [...path, key]));
  return [];
}
