import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/devstack/postgres';
import { startTemporalDevServer } from '../../src/devstack/temporal-server';
import { buildWorkflowBundle } from '../../src/workers/bundle';
import { TEST_ENV } from './stack-env';
import { required } from '../../src/domain/required';

/**
 * Starts the real servers the tests talk to: a Temporal dev server (the CLI binary found or built
 * by the devstack) and PostgreSQL (DATABASE_URL when set, else an embedded one). Bundles the
 * workflows once for every test and every worker process the tests start.
 */
export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[test stack] ${line}\n`);
  const [postgres, temporal] = await Promise.all([
    process.env.DATABASE_URL ? undefined : startEmbeddedPostgres(),
    startTemporalDevServer({ log }),
  ]);
  const bundle = {
    code: await buildWorkflowBundle({ trace() {}, debug() {}, info() {}, warn: log, error: log, log() {} }),
  };
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bundle-'));
  const bundlePath = path.join(bundleDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);

  process.env[TEST_ENV.postgresAdminUrl] = process.env.DATABASE_URL ?? required(postgres, 'embedded PostgreSQL').url;
  process.env[TEST_ENV.temporalAddress] = temporal.address;
  process.env[TEST_ENV.workflowBundle] = bundlePath;
  Object.assign(globalThis, { __tollgateStack: { postgres, temporal, bundleDir } });
}
