import fs from 'node:fs';
import type { LocalPostgres } from '../../src/devstack/postgres';
import type { DevServer } from '../../src/devstack/temporal-server';

export default async function globalTeardown(): Promise<void> {
  const stack = (
    globalThis as { __tollgateStack?: { postgres?: LocalPostgres; temporal: DevServer; bundleDir: string } }
  ).__tollgateStack;
  if (!stack) return;
  await stack.temporal.stop();
  await stack.postgres?.stop();
  fs.rmSync(stack.bundleDir, { recursive: true, force: true });
}
