import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildOnce, type SharedBuild } from '../../src/devstack/shared-build';

let cacheDir: string;
beforeEach(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-shared-build-'));
});
afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

/** A build whose output is a file, and which finishes only when the test lets it. */
function fileBuild(): SharedBuild & { runs: number; finish(): void } {
  const output = path.join(cacheDir, 'output');
  let finish = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const target = {
    what: 'the test tool',
    key: 'test-tool-1',
    cacheDir,
    firstTimeEstimate: 'usually a moment',
    runs: 0,
    finish: () => finish(),
    isBuilt: () => Promise.resolve(fs.existsSync(output)),
    build: async (step: (detail: string) => void) => {
      target.runs += 1;
      step('compiling the test tool');
      await finished;
      fs.writeFileSync(output, 'built');
    },
  };
  return target;
}

async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 30_000; !condition(); await sleep(10))
    if (Date.now() > deadline) throw new Error('condition never became true');
}

describe('a build shared through a lock in the cache dir', () => {
  it('builds once for callers that ask at the same time, and the one that waits says whom it waits for', async () => {
    const target = fileBuild();
    const first: string[] = [];
    const second: string[] = [];
    const building = buildOnce(target, { say: (line) => first.push(line), pollMs: 10 });
    await until(() => target.runs === 1);
    const waiting = buildOnce(target, { say: (line) => second.push(line), pollMs: 10 });
    await until(() => second.length > 0);
    expect(second[0]).toMatch(
      new RegExp(
        `^waiting for the test tool: another run \\(pid ${process.pid}\\) is building it, started \\d+s ago; this run uses it when done$`,
      ),
    );
    target.finish();
    expect(await Promise.all([building, waiting])).toEqual(['built', 'waited']);
    expect(target.runs).toBe(1);
    expect(first[0]).toBe('building the test tool (usually a moment); later runs reuse it');
    expect(first[first.length - 1]).toMatch(/^built the test tool in \d+s$/);
    expect(await buildOnce(target, { say: () => {} })).toBe('present');
  });

  it('gives an estimate from the last build recorded in the cache dir', async () => {
    fs.writeFileSync(path.join(cacheDir, 'build-times.json'), JSON.stringify({ 'test-tool-1': 754_000 }));
    const target = fileBuild();
    const said: string[] = [];
    target.finish();
    await buildOnce(target, { say: (line) => said.push(line) });
    expect(said[0]).toBe('building the test tool (the last build here took 12m34s); later runs reuse it');
  });

  it('takes over a lock whose owner died in the middle of its build', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    fs.mkdirSync(path.join(cacheDir, 'locks'));
    fs.writeFileSync(
      path.join(cacheDir, 'locks', 'test-tool-1.lock'),
      JSON.stringify({ pid: dead, host: os.hostname(), since: new Date().toISOString(), what: 'building' }),
    );
    const target = fileBuild();
    target.finish();
    expect(await buildOnce(target, { say: () => {}, pollMs: 10 })).toBe('built');
    expect(fs.existsSync(path.join(cacheDir, 'locks', 'test-tool-1.lock'))).toBe(false);
  });

  it('releases the lock when the build fails, so the next run builds', async () => {
    const target = fileBuild();
    const failing = { ...target, build: () => Promise.reject(new Error('go: no space left on device')) };
    const said: string[] = [];
    await expect(buildOnce(failing, { say: (line) => said.push(line) })).rejects.toThrow('no space left');
    expect(said[said.length - 1]).toMatch(/^failed building the test tool in \d+s$/);
    target.finish();
    expect(await buildOnce(target, { say: () => {} })).toBe('built');
  });
});
