import type { ReleaseFacts } from '../../domain/release-facts';
import { SECRET_REF_PATTERN } from '../../domain/spec';

/** A spec's env entry that names a variable the worker does not have. Retrying cannot fix it. */
export class MissingSecret extends Error {
  constructor(readonly variable: string) {
    super(
      `env:${variable} is not set in the worker's environment; set ${variable} where the worker runs and retry the release`,
    );
    this.name = 'MissingSecret';
  }
}

/** Variables every command sees: the release's facts, named the same for every provider. */
export function factsEnvironment(
  facts: ReleaseFacts,
  extra: Record<string, string | number | undefined> = {},
): Record<string, string> {
  const entries: Record<string, string | number | undefined> = {
    TOLLGATE_RELEASE_ID: facts.releaseId,
    TOLLGATE_SERVICE: facts.service,
    TOLLGATE_ENVIRONMENT: facts.environment,
    TOLLGATE_VERSION: facts.version,
    TOLLGATE_CANARY_VERSION: facts.version,
    TOLLGATE_STABLE_VERSION: facts.stableVersion ?? '',
    TOLLGATE_COMMIT_SHA: facts.commitSha ?? '',
    TOLLGATE_INITIATOR: facts.initiator,
    TOLLGATE_ATTEMPT: facts.attempt,
    ...extra,
  };
  return Object.fromEntries(
    Object.entries(entries)
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

/**
 * The spec's `env:` block resolved against the worker's environment. Returns the variables and
 * the secret values among them, so output can be redacted before it reaches history or logs.
 */
export function resolveSpecEnvironment(
  specEnv: Record<string, string> | undefined,
  workerEnv: NodeJS.ProcessEnv,
): { env: Record<string, string>; secrets: string[] } {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(specEnv ?? {})) {
    if (SECRET_REF_PATTERN.test(value)) {
      const variable = value.slice('env:'.length);
      const resolved = workerEnv[variable];
      if (resolved === undefined) throw new MissingSecret(variable);
      env[name] = resolved;
      secrets.push(resolved);
    } else {
      env[name] = value;
    }
  }
  return { env, secrets };
}
