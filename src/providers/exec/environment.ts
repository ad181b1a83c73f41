import type { ReleaseFacts } from '../../domain/release-facts';
import { isSecretRef, resolveSecret } from '../secrets';

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
    env[name] = resolveSecret(value, `env.${name}`, workerEnv);
    if (isSecretRef(value)) secrets.push(env[name]);
  }
  return { env, secrets };
}
