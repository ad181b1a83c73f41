import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOrInstallTemporalCli } from '../../src/devstack/temporal-cli';
import { testEnv } from './stack-env';

/**
 * A workflow's history as an operator exports it: `temporal workflow show --output json` (the
 * Temporal CLI, which also sidesteps the SDK's protobuf classes being loaded twice under jest).
 */
export async function exportedHistory(workflowId: string): Promise<{ events: unknown[] }> {
  const cli = await findOrInstallTemporalCli();
  if (!cli) throw new Error('exporting a history needs the Temporal CLI');
  const { stdout } = await promisify(execFile)(
    cli.path,
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', testEnv('temporalAddress')],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { events: unknown[] };
}

/** Saves a workflow's exported history as `dir/name.json`, for test/replay/replay.test.ts to replay. */
export async function saveHistory(dir: string, name: string, workflowId: string): Promise<void> {
  const history = await exportedHistory(workflowId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(history, null, 1)}\n`);
}
