import fs from 'node:fs';
import path from 'node:path';

/**
 * Workflow code is replayed and must be deterministic: it may import only the Temporal workflow
 * API and Tollgate's pure domain, and activities' *types*. Anything else (fs, a database client,
 * a logger) would run I/O inside the sandbox or change behaviour between replays.
 */
const WORKFLOWS = path.join(__dirname, '..', '..', 'src', 'workflows');
const DOMAIN = path.join(__dirname, '..', '..', 'src', 'domain');

function imports(file: string): { source: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((match) => ({
    source: match[2],
    typeOnly: Boolean(match[1]),
  }));
}

describe('workflow code', () => {
  const files = fs.readdirSync(WORKFLOWS).filter((file) => file.endsWith('.ts'));

  it.each(files)('%s imports only @temporalio/workflow, src/domain and activity types', (file) => {
    const offending = imports(path.join(WORKFLOWS, file)).filter(({ source, typeOnly }) => {
      if (source === '@temporalio/workflow') return false;
      if (source.startsWith('./')) return false;
      if (source.startsWith('../domain/')) return false;
      if (typeOnly && source.startsWith('../activities')) return false;
      return true;
    });
    expect(offending).toEqual([]);
  });

  it('loads no heavy library into the workflow bundle (each cached workflow pays for it)', () => {
    // Follow runtime imports from the workflow files through src/domain.
    const seen = new Set<string>();
    const libraries = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { source, typeOnly } of imports(file)) {
        if (typeOnly) continue;
        if (source.startsWith('.')) visit(path.resolve(path.dirname(file), `${source}.ts`));
        else libraries.add(source);
      }
    };
    files.forEach((file) => visit(path.join(WORKFLOWS, file)));
    expect([...libraries].sort()).toEqual(['@temporalio/common', '@temporalio/workflow', 'ms']);
  });

  it('relies on a domain that does no I/O', () => {
    const domainFiles = fs.readdirSync(DOMAIN).filter((file) => file.endsWith('.ts'));
    const io = domainFiles.flatMap((file) =>
      imports(path.join(DOMAIN, file))
        .filter(({ source }) => /^(node:|fs$|path$|child_process|net$|http|pg$|knex|pino)/.test(source))
        .map(({ source }) => `${file}: ${source}`),
    );
    expect(io).toEqual([]);
  });
});
