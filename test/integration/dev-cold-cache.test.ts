import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDev, userEnv, type DevProcess } from '../support/dev-process';
import { eventually } from '../support/eventually';

/**
 * The first hour on a new machine: nothing in Tollgate's cache, two `tollgate dev` started at
 * once (two terminals, or a test run beside a demo). The Temporal CLI is built for real with
 * `go install`, once: one run builds it with progress, the other says it waits and uses it.
 *
 * The build is held at its start until the second run has said that it waits (a `go` on PATH
 * that waits for the test, then runs the real one), so the order never depends on how fast the
 * machine is. Go's module and build caches are the machine's, so the real `go install` takes
 * seconds; TOLLGATE_TEST_COLD_GO_CACHE=1 gives it an empty build cache instead, to time a
 * first build from nothing (about 22 minutes on a busy 2-core machine).
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

/** A folder with a `go` that waits until the test lets the build start, then runs the real go. */
function heldGo(): string {
  const real = execFileSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' }).trim();
  const dir = path.join(cache, 'held-go');
  fs.mkdirSync(dir, { recursive: true });
  const gate = path.join(cache, 'go-may-start');
  fs.writeFileSync(
    path.join(dir, 'go'),
    `#!/bin/sh\nwhile [ ! -e ${JSON.stringify(gate)} ]; do sleep 0.1; done\nexec ${JSON.stringify(real)} "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

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
        ...(process.env.TOLLGATE_TEST_COLD_GO_CACHE === '1' ? { GOCACHE: path.join(cache, 'go-build') } : {}),
        PATH: [heldGo(), pathWithoutTemporal()].join(path.delimiter),
      });
      devs.push(...folders.map((folder) => startDev(folder, env)));
      await eventually("one run to wait for the other's build", () =>
        devs.some((dev) => dev.stderr().includes('another run (pid')) ? true : undefined,
      );
      fs.writeFileSync(path.join(cache, 'go-may-start'), '');
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
