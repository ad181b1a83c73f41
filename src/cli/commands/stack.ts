import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { startLocalStack } from '../../devstack/local-stack';
import { RELEASE_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { connectClient } from '../../temporal/connection';
import { createLogger } from '../../logger';
import { runWorkerProcess } from '../../workers/main';
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
            loadConfig({ ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, DATABASE_URL: stack.databaseUrl }, ['DATABASE_URL']),
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
    .command('setup')
    .description("register Tollgate's search attributes on the Temporal cluster (once per namespace)")
    .action(() =>
      runBare(async () => {
        const config = loadConfig();
        const client = await connectClient(config);
        try {
          const existing = await client.connection.operatorService.listSearchAttributes({ namespace: config.TEMPORAL_NAMESPACE });
          const missing = RELEASE_SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing.customAttributes));
          if (missing.length > 0) {
            await client.connection.operatorService.addSearchAttributes({
              namespace: config.TEMPORAL_NAMESPACE,
              searchAttributes: Object.fromEntries(missing.map((key) => [key.name, searchAttributeProtoType(key.type)])),
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
    .command('bundle <file>')
    .description('build the workflow bundle ahead of time (set TOLLGATE_WORKFLOW_BUNDLE to it)')
    .action((file: string) =>
      runBare(async () => {
        const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') });
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
