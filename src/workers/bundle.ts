import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { FAILURE_CONVERTER_PATH } from '../codec/data-converter';

/**
 * How every workflow bundle is built (tests, `tollgate bundle`, the image, a worker without a
 * prebuilt bundle), so recorded histories replay against any of them.
 *
 * No workflow interceptor modules: the SDK's OpenTelemetry workflow interceptors took 1,000
 * waiting releases from 0.66 GiB to 3.25 GiB of worker memory and reorder commands in history.
 * Releases are traced from their activities instead (src/telemetry/activity-tracing.ts).
 */
export function workflowBundleOptions(): BundleOptions {
  // Failures made in workflow code are encoded as payloads (encrypted with the payload keys).
  return { workflowsPath: require.resolve('../workflows'), failureConverterPath: FAILURE_CONVERTER_PATH };
}

export async function buildWorkflowBundle(logger?: BundleOptions['logger']): Promise<string> {
  return (await bundleWorkflowCode({ ...workflowBundleOptions(), logger })).code;
}

/**
 * The bundler logs webpack's whole report at info level: a screenful nobody needs on every
 * start. It goes to debug; warnings and errors stay what they are.
 */
export function quietBundlerLogger(log: Logger): NonNullable<BundleOptions['logger']> {
  const debug = (message: string, meta?: Record<string, unknown>) => log.debug({ ...meta, bundler: true }, message);
  return {
    log: (level, message, meta) =>
      level === 'WARN' || level === 'ERROR'
        ? log[level === 'WARN' ? 'warn' : 'error'](meta ?? {}, message)
        : debug(message, meta),
    trace: debug,
    debug,
    info: debug,
    warn: (message, meta) => log.warn({ ...meta, bundler: true }, message),
    error: (message, meta) => log.error({ ...meta, bundler: true }, message),
  };
}
