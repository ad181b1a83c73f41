import { createAnalysisActivities } from './analysis';
import { createAuditActivities } from './audit';
import { createDeployActivities } from './deploy';
import type { ActivityDeps } from './deps';
import { createFencingActivities } from './fencing';
import { createFlagActivities } from './flags';
import { createIdentityActivities } from './identity';
import { createErrorBudgetActivities } from './error-budget';
import { createLaneActivities } from './lane';
import { createNotifyActivities } from './notify';
import { createPipelineActivities } from './pipeline';
import { createMigrationActivities } from './migrations';
import { createTrafficActivities } from './traffic';
import { createVerificationActivities } from './verification';

export type { ActivityDeps } from './deps';

/** Every activity Tollgate's workflows call, bound to their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createLaneActivities(deps),
    ...createAuditActivities(deps),
    ...createDeployActivities(deps),
    ...createTrafficActivities(deps),
    ...createAnalysisActivities(deps),
    ...createNotifyActivities(deps),
    ...createErrorBudgetActivities(deps),
    ...createMigrationActivities(deps),
    ...createFencingActivities(deps),
    ...createIdentityActivities(deps),
    ...createVerificationActivities(deps),
    ...createPipelineActivities(deps),
    ...createFlagActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
