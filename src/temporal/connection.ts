import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { dataConverterFor } from '../codec/data-converter';
import { TollgateError } from '../domain/errors';

/**
 * How Tollgate reaches Temporal: the dev server, a self-hosted cluster with mTLS, or Temporal Cloud.
 * The same options serve the client's Connection and the worker's NativeConnection.
 */
export function connectionOptions(config: Config) {
  const mtls =
    config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
      ? {
          clientCertPair: {
            crt: fs.readFileSync(config.TEMPORAL_TLS_CERT),
            key: fs.readFileSync(config.TEMPORAL_TLS_KEY),
          },
        }
      : undefined;
  const tls = mtls ?? (config.TEMPORAL_TLS || config.TEMPORAL_API_KEY ? true : undefined);
  return {
    address: config.TEMPORAL_ADDRESS,
    tls,
    apiKey: config.TEMPORAL_API_KEY,
    connectTimeout: '5s' as const,
  };
}

export class TemporalUnreachable extends TollgateError {
  constructor(address: string, cause: unknown) {
    super(
      'TEMPORAL_UNREACHABLE',
      `cannot reach Temporal at ${address} (${(cause as Error).message ?? cause}); is it running? ` +
        '`tollgate dev` starts a local one; set TEMPORAL_ADDRESS for another',
    );
  }
}

export async function connectClient(config: Config): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions(config));
  } catch (err) {
    throw new TemporalUnreachable(config.TEMPORAL_ADDRESS, err);
  }
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(config),
    // Carries the caller's trace into the release's workflow. Tracing exists only with an OTLP
    // endpoint, and only then is the interceptor loaded (it costs a CLI command 80 ms to load).
    interceptors: config.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          workflow: [
            new (
              require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry')
            ).OpenTelemetryWorkflowClientInterceptor(),
          ],
        }
      : undefined,
  });
}
