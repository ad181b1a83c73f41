import fs from 'node:fs';
import path from 'node:path';

/**
 * Test files run side by side on one Temporal dev server, each with its own worker on its own task
 * queue. A lane is one workflow per service and environment (as in production), run by the worker
 * of whichever file started it first, so two files releasing the same service share a lane that
 * one of them cannot reach once the other's worker stops: its releases wait forever (this is how
 * the CI trigger's pipeline test hung for 600 s). Every file picks service names of its own.
 */
const ROOT = path.join(__dirname, '..');
const FOLDERS = ['integration', 'e2e', 'kubernetes'];
/** Files that only write audit rows to their own database: they start no release, so no lane. */
const NO_LANES = new Set([
  'integration/audit-log.test.ts',
  'integration/delivery-metrics.test.ts',
  'integration/release-metrics.test.ts',
]);

/** Service names a file releases, freezes or bootstraps, as written in it. */
function servicesIn(source: string): Set<string> {
  const names = new Set<string>();
  const patterns = [
    /service:\s*'([a-z0-9-]+)'/g,
    /\b(?:freeze|unfreeze|bootstrap|lane)\(\s*(?:[\w.]+,\s*)?'([a-z0-9-]+)'/g,
    // A service and its environment as a call's first arguments: writeSpec('basket', 'staging', ...).
    /\(\s*'([a-z0-9-]+)',\s*'(?:staging|production)'/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) names.add(match[1]);
  return names;
}

it('gives every test file that starts releases service names no other file uses', () => {
  const users = new Map<string, string[]>();
  for (const folder of FOLDERS) {
    for (const name of fs.readdirSync(path.join(ROOT, folder))) {
      const file = `${folder}/${name}`;
      if (!name.endsWith('.test.ts') || NO_LANES.has(file)) continue;
      for (const service of servicesIn(fs.readFileSync(path.join(ROOT, file), 'utf8')))
        users.set(service, [...(users.get(service) ?? []), file]);
    }
  }
  const shared = [...users]
    .filter(([, files]) => files.length > 1)
    .map(([service, files]) => `${service}: ${files.join(', ')}`);
  expect(shared).toEqual([]);
  // The scan itself works: it finds the names a file is known to use.
  expect(users.get('carts')).toEqual(['integration/lane.test.ts']);
  expect(users.get('finder')).toEqual(['integration/slack-app.test.ts']);
});
