/** What the worker bundles: every workflow Tollgate runs. */
export { releaseWorkflow } from './release';
export { laneWorkflow } from './lane';
export { pipelineWorkflow } from './pipeline';
export { pipelineHeadWorkflow } from './pipeline-head';
