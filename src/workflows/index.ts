/** What the worker bundles: every workflow Tollgate runs. */
export { releaseWorkflow } from './release';
export { laneWorkflow } from './lane';
