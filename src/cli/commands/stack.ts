import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { runApp } from '../../app/main';
import { createCodecHandler } from '../../codec/codec-server';
import { dataConverterFor } from '../../codec/data-converter';
import { loadConfig } from '../../config';
import { TollgateError } from '../../domain/errors';
import { startLocalStack } from '../../devstack/local-stack';
import { RELEASE_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { connectClient } from '../../temporal/connection';
import { createLogger } from '../../logger';
import { runWorkerProcess } from '../../workers/main';
import { buildWorkflowBundle } from '../../workers/bundle';
import { installRuntime } from '../../workers/runtime';
import { print } from '../output';

type RunBare = (action: () => Promise<number | void>) => Promise<void>;

export function registerStackCommands(program: Command, runBare: RunBare): void {
  program
    .command('dev')
    .description('run the local stack: Temporal dev server and UI, PostgreSQL, and a worker (Ctrl-C stops all)')
    .option('--fresh', 'forget the releases and database of earlier runs')
    .action((options: { fresh?: boolean }) =>
      runBare(async () => {
        if (options.fresh) fs.rmSync('.tollgate', { recursive: true, force: true });
        const say = (line: string) => process.stderr.write(`tollgate dev: ${line}\n`);
        const config = loadConfig(process.env);
        const log = createLogger(config.LOG_LEVEL, 'tollgate-worker');
        installRuntime(log); // before the dev server: both share the SDK's process-wide runtime
        const stack = await startLocalStack({ log: say });
        say(`Temporal ${stack.temporal.address}, UI ${stack.uiUrl}`);
        say(`Tollgate database ${stack.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`);
        say('in another terminal: `tollgate start <spec>`, `tollgate list`; Ctrl-C stops everything');
        try {
          await runWorkerProcess(
            loadConfig({ ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, DATABASE_URL: stack.databaseUrl }, [
              'DATABASE_URL',
            ]),
            log,
          );
        } finally {
          await stack.stop();
        }
      }),
    );

  program
    .command('worker')
    .description('run a worker against TEMPORAL_ADDRESS and DATABASE_URL; SIGTERM drains it')
    .action(() => runBare(() => runWorkerProcess()));

  program
    .command('app')
    .description('run the app: Slack (/release, buttons), the CI trigger, /metrics, the codec endpoint, /healthz')
    .action(() =>
      runBare(async () => {
        const app = await runApp(loadConfig());
        await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
        await app.stop();
      }),
    );

  program
    .command('setup')
    .description("register Tollgate's search attributes on the Temporal cluster (once per namespace)")
    .action(() =>
      runBare(async () => {
        const config = loadConfig();
        const client = await connectClient(config);
        try {
          const existing = await client.connection.operatorService.listSearchAttributes({
            namespace: config.TEMPORAL_NAMESPACE,
          });
          const missing = RELEASE_SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing.customAttributes));
          if (missing.length > 0) {
            await client.connection.operatorService.addSearchAttributes({
              namespace: config.TEMPORAL_NAMESPACE,
              searchAttributes: Object.fromEntries(
                missing.map((key) => [key.name, searchAttributeProtoType(key.type)]),
              ),
            });
          }
          print(undefined, false, () =>
            missing.length
              ? `registered ${missing.map((key) => key.name).join(', ')} on ${config.TEMPORAL_NAMESPACE}`
              : `search attributes already registered on ${config.TEMPORAL_NAMESPACE}`,
          );
        } finally {
          await client.connection.close();
        }
      }),
    );

  program
    .command('codec-server')
    .description('serve /decode and /encode for the Temporal UI, so people with a token see decrypted payloads')
    .option('--port <port>', 'port to listen on', '8089')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--cors-origin <url>', "the Temporal UI's origin, e.g. http://localhost:8233")
    .option('--insecure-no-auth', 'decrypt for anyone (a local stack on loopback only)')
    .action((options: { port: string; host: string; corsOrigin?: string; insecureNoAuth?: boolean }) =>
      runBare(async () => {
        const config = loadConfig();
        const codec = dataConverterFor(config)?.payloadCodecs?.[0];
        if (!codec)
          throw new TollgateError(
            'CONFIG_INVALID',
            'TOLLGATE_PAYLOAD_KEYS is not set: there is nothing to decrypt with',
          );
        const tokens = (process.env.TOLLGATE_CODEC_TOKENS ?? '')
          .split(',')
          .map((token) => token.trim())
          .filter(Boolean);
        const handler = createCodecHandler({
          codec,
          tokens,
          allowAnyone: options.insecureNoAuth,
          corsOrigin: options.corsOrigin,
        });
        const server = http.createServer(handler);
        await new Promise<void>((resolve) => server.listen(Number(options.port), options.host, resolve));
        print(
          undefined,
          false,
          () => `codec endpoint on http://${options.host}:${options.port}; set it as the Temporal UI's codec endpoint`,
        );
        await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
        server.close();
      }),
    );

  program
    .command('bundle <file>')
    .description('build the workflow bundle ahead of time (set TOLLGATE_WORKFLOW_BUNDLE to it)')
    .action((file: string) =>
      runBare(async () => {
        const code = await buildWorkflowBundle();
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
        fs.writeFileSync(file, code);
        print(undefined, false, () => `wrote ${file} (${Math.round(code.length / 1024)} KiB)`);
      }),
    );
}

/** The operator service takes the protobuf enum value: Keyword = 2, Int = 3. */
function searchAttributeProtoType(type: string): number {
  return type === 'INT' ? 3 : 2;
}
