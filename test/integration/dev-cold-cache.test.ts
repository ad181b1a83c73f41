import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDev, userEnv, type DevProcess } from '../support/dev-process';

/**
 * The first hour on a new machine: nothing in Tollgate's cache, two `tollgate dev` started at
 * once (two terminals, or a test run beside a demo). The Temporal CLI is built for real with
 * `go install`, once: one run builds it with progress, the other says it waits and uses it.
 * Go's own module and build caches are the machine's (set GOCACHE to an empty folder to time a
 * build from nothing).
 */
let cache: string;
const folders: string[] = [];
const devs: DevProcess[] = [];

beforeAll(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-cold-cache-'));
  for (const name of ['one', 'two']) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), `tollgate-cold-${name}-`));
    fs.chmodSync(folder, 0o755);
    folders.push(folder);
  }
});

afterAll(async () => {
  await Promise.all(devs.map((dev) => dev.stop()));
  for (const folder of [cache, ...folders]) fs.rmSync(folder, { recursive: true, force: true });
});

/** PATH without any `temporal`, so the cache is the only place the CLI can come from. */
function pathWithoutTemporal(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !fs.existsSync(path.join(dir, 'temporal')))
    .join(path.delimiter);
}

describe('tollgate dev on a cold cache', () => {
  it(
    'builds the Temporal CLI once when two start at the same time, and both come up',
    async () => {
      const env = userEnv({
        TOLLGATE_CACHE_DIR: cache,
        GOCACHE: path.join(cache, 'go-build'),
        PATH: pathWithoutTemporal(),
      });
      devs.push(...folders.map((folder) => startDev(folder, env)));
      await Promise.all(devs.map((dev) => dev.ready(40 * 60_000)));

      const outputs = devs.map((dev) => dev.stderr());
      const builders = outputs.filter((output) => /built the Temporal CLI .* in \d/.test(output));
      expect(builders).toHaveLength(1);
      const builder = devs[outputs.indexOf(builders[0])];
      const waiter = devs.find((dev) => dev !== builder);
      expect(builders[0]).toMatch(
        /building the Temporal CLI \(go install github\.com\/temporalio\/cli.*\(a first build takes/,
      );
      expect(waiter?.stderr()).toContain(
        `waiting for the Temporal CLI (go install github.com/temporalio/cli/cmd/temporal@v1.5.1): another run (pid ${builder.child.pid}) is building it`,
      );
      expect(waiter?.stderr()).not.toMatch(/built the Temporal CLI/);
      expect(fs.existsSync(path.join(cache, 'bin', 'temporal'))).toBe(true);
      // The next build here gets an estimate from this one.
      expect(Object.keys(JSON.parse(fs.readFileSync(path.join(cache, 'build-times.json'), 'utf8')) as object)).toEqual([
        'temporal-cli-v1.5.1',
      ]);
      process.stderr.write(`${builders[0].split('\n').find((line) => line.includes('built the Temporal CLI'))}\n`);

      // Both stacks are whole and separate: each its own Temporal, and each answers.
      const stacks = folders.map(
        (folder) =>
          JSON.parse(fs.readFileSync(path.join(folder, '.tollgate', 'stack.json'), 'utf8')) as {
            temporalAddress: string;
          },
      );
      expect(stacks[0].temporalAddress).not.toBe(stacks[1].temporalAddress);
      for (const dev of devs) expect(await dev.stop()).toBe(0);
    },
    45 * 60_000,
  );
});
