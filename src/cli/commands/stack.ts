import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { TollgateError } from '../../domain/errors';
import { print } from '../output';

type RunBare = (action: () => Promise<number | void>) => Promise<void>;

export function registerStackCommands(program: Command, runBare: RunBare): void {
  program
    .command('dev')
    .description('run the local stack: Temporal dev server and UI, PostgreSQL, and a worker (Ctrl-C stops all)')
    .option('--fresh', 'forget the releases and database of earlier runs')
    .option('--json', 'log JSON lines (the default when the output is not a terminal)')
    .option('--flags', 'also run an Unleash flag service for setFlag steps (UNLEASH_URL, UNLEASH_ADMIN_TOKEN)')
    .action((options: { fresh?: boolean; json?: boolean; flags?: boolean }) =>
      runBare(async () => {
        const { loadConfig } = require('../../config') as typeof import('../../config');
        const { createLogger } = require('../../logger') as typeof import('../../logger');
        const { startLocalStack, STATE_DIR } =
          require('../../devstack/local-stack') as typeof import('../../devstack/local-stack');
        const { runWorkerProcess } = require('../../workers/main') as typeof import('../../workers/main');
        const { installRuntime } = require('../../workers/runtime') as typeof import('../../workers/runtime');
        if (options.fresh) fs.rmSync(STATE_DIR, { recursive: true, force: true });
        // People at a terminal get readable lines and only what matters; anything else gets JSON.
        const pretty = !options.json && Boolean(process.stdout.isTTY);
        const say = (line: string) => process.stderr.write(`tollgate dev: ${line}\n`);
        // Without an identity provider configured, dev runs in local mode, and says so.
        const { TOLLGATE_AUTH, TOLLGATE_OIDC_ISSUER, TOLLGATE_ASSERTION_KEY } = process.env;
        const auth =
          TOLLGATE_AUTH || TOLLGATE_OIDC_ISSUER || TOLLGATE_ASSERTION_KEY ? TOLLGATE_AUTH : ('none' as const);
        const config = loadConfig({ ...process.env, TOLLGATE_AUTH: auth });
        const { identitySettings, LOCAL_MODE_NOTICE } =
          require('../../identity/settings') as typeof import('../../identity/settings');
        const identityMode = identitySettings(config).mode;
        if (identityMode === 'none') say(LOCAL_MODE_NOTICE);
        const log = createLogger(config.LOG_LEVEL, 'tollgate-worker', { pretty });
        // Before the dev server: both share the SDK's process-wide runtime.
        installRuntime(log, { sdkLevel: pretty ? 'WARN' : undefined });
        const stack = await startLocalStack({
          log: say,
          terminal: process.stderr.isTTY ? process.stderr : undefined,
          flags: options.flags,
          auth: identityMode,
        });
        if (stack.unleash) {
          // Specs name these (flags.url: env:UNLEASH_URL, flags.token: env:UNLEASH_ADMIN_TOKEN); the worker resolves them.
          process.env.UNLEASH_URL = stack.unleash.url;
          process.env.UNLEASH_ADMIN_TOKEN = stack.unleash.tokens.admin;
        }
        const workerConfig = loadConfig(
          {
            ...process.env,
            TOLLGATE_AUTH: config.TOLLGATE_AUTH,
            TEMPORAL_ADDRESS: stack.temporal.address,
            DATABASE_URL: stack.databaseUrl,
            TEMPORAL_UI_URL: stack.uiUrl,
          },
          ['DATABASE_URL'],
        );
        try {
          await runWorkerProcess(workerConfig, log, {
            onRunning: () => process.stderr.write(devBanner(stack, workerConfig.TOLLGATE_TASK_QUEUE, STATE_DIR)),
          });
        } finally {
          await stack.stop();
        }
      }),
    );

  program
    .command('worker')
    .description('run a worker against TEMPORAL_ADDRESS and DATABASE_URL; SIGTERM drains it')
    .action(() =>
      runBare(async () => (require('../../workers/main') as typeof import('../../workers/main')).runWorkerProcess()),
    );

  program
    .command('app')
    .description('run the app: Slack (/release, buttons), the CI trigger, /metrics, the codec endpoint, /healthz')
    .action(() =>
      runBare(async () => {
        const { runApp } = require('../../app/main') as typeof import('../../app/main');
        const { loadConfig } = require('../../config') as typeof import('../../config');
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
        const { loadConfig } = require('../../config') as typeof import('../../config');
        const { connectClient } = require('../../temporal/connection') as typeof import('../../temporal/connection');
        const { RELEASE_SEARCH_ATTRIBUTES } =
          require('../../domain/search-attributes') as typeof import('../../domain/search-attributes');
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
        const http = require('node:http') as typeof import('node:http');
        const { createCodecHandler } = require('../../codec/codec-server') as typeof import('../../codec/codec-server');
        const { dataConverterFor } =
          require('../../codec/data-converter') as typeof import('../../codec/data-converter');
        const { loadConfig } = require('../../config') as typeof import('../../config');
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
        const { buildWorkflowBundle } = require('../../workers/bundle') as typeof import('../../workers/bundle');
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

/** What `tollgate dev` says once everything runs: where things are, and what to type next. */
export function devBanner(
  stack: {
    temporal: { address: string; namespace: string };
    uiUrl?: string;
    databaseUrl: string;
    unleash?: { url: string };
  },
  taskQueue: string,
  stateDir: string,
): string {
  return [
    '',
    'tollgate dev is ready',
    `  Temporal UI  ${stack.uiUrl ?? '(none)'}`,
    `  Temporal     ${stack.temporal.address}, namespace ${stack.temporal.namespace}`,
    `  database     ${stack.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
    `  worker       in this process, task queue ${taskQueue}`,
    ...(stack.unleash
      ? [`  Unleash      ${stack.unleash.url} (flags: url env:UNLEASH_URL, token env:UNLEASH_ADMIN_TOKEN)`]
      : []),
    `  state        ${stateDir}/ (kept across runs; --fresh forgets it)`,
    'next, in another terminal in this folder:',
    '  tollgate start examples/exec-canary/release.yaml',
    '  tollgate list',
    '  tollgate status <release>',
    'Ctrl-C stops everything.',
    '',
    '',
  ].join('\n');
}
