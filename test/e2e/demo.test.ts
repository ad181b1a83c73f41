import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isAlive } from '../../src/providers/exec/process-identity';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.join(__dirname, '..', '..');

/** Running processes (not zombies) of the sample service that this checkout's demo released. */
function demoInstancesRunning(): string[] {
  return fs.readdirSync('/proc').filter((pid) => {
    try {
      if (!/^\d+$/.test(pid) || !isAlive(Number(pid))) return false;
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return (
        environ.includes('TOLLGATE_INITIATOR=demo') &&
        environ.some((entry) => entry.startsWith('TOLLGATE_RELEASE_ID=sample:')) &&
        cmdline.includes(path.join(repo, 'examples', 'sample-service'))
      );
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  });
}

describe('npm run demo', () => {
  it(
    'releases the healthy v2 to 100% and rolls the faulty v3 back on its own, starting and stopping its whole stack',
    async () => {
      const { stdout } = await run('npm', ['run', 'demo', '--', '--ci'], {
        cwd: repo,
        // The demo starts its own Temporal and PostgreSQL; it must not pick up the tests' ones.
        env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 10 * 60_000,
      });
      expect(stdout).toMatch(/v2: healthy\s+2\.0\.0\s+Succeeded\s+Succeeded ✓/);
      expect(stdout).toMatch(/v3: fails 30%\s+3\.0\.0\s+RolledBack\s+RolledBack ✓.*failed check: /);
      expect(stdout).toContain('v2 reached 100% and v3 was rolled back automatically, as expected.');
      // The demo waited for everything it started to stop: none of its sample service's instances is left.
      expect(demoInstancesRunning()).toEqual([]);
    },
    11 * 60_000,
  );
});
