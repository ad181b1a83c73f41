import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('npm run demo', () => {
  it(
    'releases the healthy v2 to 100% and rolls the faulty v3 back on its own, starting and stopping its whole stack',
    async () => {
      const { stdout } = await run('npm', ['run', 'demo', '--', '--ci'], {
        cwd: path.join(__dirname, '..', '..'),
        // The demo starts its own Temporal and PostgreSQL; it must not pick up the tests' ones.
        env: { ...process.env, DATABASE_URL: '', TEMPORAL_ADDRESS: '' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 10 * 60_000,
      });
      expect(stdout).toMatch(/v2: healthy\s+2\.0\.0\s+Succeeded\s+Succeeded ✓/);
      expect(stdout).toMatch(/v3: fails 30%\s+3\.0\.0\s+RolledBack\s+RolledBack ✓.*failed check: /);
      expect(stdout).toContain('v2 reached 100% and v3 was rolled back automatically, as expected.');
    },
    11 * 60_000,
  );
});
