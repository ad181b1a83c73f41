import type { Fence } from '../domain/fence';
import type { ReleaseSpec } from '../domain/spec';
import { secretReferences, type SecretReference } from '../domain/secret-references';
import type { ActivityDeps } from './deps';

/** Checks a release runs before it changes anything, and its fencing tokens (docs/architecture.md). */
export function createFencingActivities(deps: ActivityDeps) {
  return {
    /** A new fencing epoch for a release its lane has just admitted. */
    async takeFenceEpoch(laneId: string): Promise<number> {
      return deps.fences.takeEpoch(laneId);
    },
    /** Makes the rollback's token the lane's newest: attempts of the release's forward steps are refused from now on. */
    async raiseFence(fence: Fence): Promise<void> {
      await deps.fences.raise(fence);
    },
    /** The spec's `env:` references that this worker's environment does not have. */
    async findMissingSecrets(spec: ReleaseSpec): Promise<SecretReference[]> {
      return secretReferences(spec).filter((reference) => process.env[reference.variable] === undefined);
    },
  };
}
