import { FailureType } from '../domain/failures';
import { SECRET_REF_PATTERN } from '../domain/spec';
import { ProviderError } from './context';

/** A spec's `env:NAME` that the worker's environment does not have. Retrying cannot fix it; setting it can. */
export class MissingSecret extends ProviderError {
  constructor(
    readonly variable: string,
    where?: string,
  ) {
    super(
      `${where ? `${where}: ` : ''}env:${variable} is not set in the worker's environment; set ${variable} where the worker runs and retry the release`,
      false,
      FailureType.MissingSecret,
    );
    this.name = 'MissingSecret';
  }
}

/** Is this spec value a reference to a secret in the worker's environment (`env:NAME`)? */
export function isSecretRef(value: string): boolean {
  return SECRET_REF_PATTERN.test(value);
}

/**
 * A value from a spec as the worker uses it: `env:NAME` is read from the worker's environment (so
 * the secret itself never enters a spec, workflow history or an audit row), anything else is
 * itself. `where` names the spec field in the error, e.g. "database.url".
 */
export function resolveSecret(value: string, where?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!isSecretRef(value)) return value;
  const variable = value.slice('env:'.length);
  const resolved = env[variable];
  if (resolved === undefined) throw new MissingSecret(variable, where);
  return resolved;
}
