import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';

/**
 * How every workflow bundle is built (tests, `tollgate bundle`, the image, a worker without a
 * prebuilt bundle), so recorded histories replay against any of them.
 *
 * No workflow interceptor modules: the SDK's OpenTelemetry workflow interceptors took 1,000
 * waiting releases from 0.66 GiB to 3.25 GiB of worker memory and reorder commands in history.
 * Releases are traced from their activities instead (src/telemetry/activity-tracing.ts).
 */
export function workflowBundleOptions(): BundleOptions {
  return { workflowsPath: require.resolve('../workflows') };
}

export async function buildWorkflowBundle(logger?: BundleOptions['logger']): Promise<string> {
  return (await bundleWorkflowCode({ ...workflowBundleOptions(), logger })).code;
}
