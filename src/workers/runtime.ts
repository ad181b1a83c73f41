import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

let installed = false;

/**
 * Routes the Temporal SDK's own logs through pino. The SDK's Runtime is a process-wide singleton
 * created by the first worker or test server, so this must run before either, and only once.
 */
export function installRuntime(
  log: Logger,
  options: { metricsAddress?: string; /** the SDK's own level, when quieter than `log`'s */ sdkLevel?: LogLevel } = {},
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    // The SDK's own metrics (task latencies, slots, sticky cache hits) for Prometheus to scrape.
    ...(options.metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: options.metricsAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
    logger: new DefaultLogger(options.sdkLevel ?? toSdkLevel(log.level), (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      log[level]({ ...entry.meta, sdk: true }, entry.message);
    }),
  });
}

function toSdkLevel(level: string): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}
