import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SpecError, TollgateError } from '../domain/errors';
import { MAX_SPEC_BYTES, parseReleaseSpec, specTooLarge, type SpecOverrides } from '../domain/parse-spec';
import type { ReleaseSpec } from '../domain/spec';

/**
 * Reads a spec file, validates it, and makes its paths absolute: exec commands run in the spec's
 * folder unless it says otherwise, and the migrations folder is found from it, because that is
 * where the user wrote them relative to.
 */
export function loadSpecFile(file: string, overrides: SpecOverrides = {}): ReleaseSpec {
  let text: string;
  try {
    // Refused before reading: a huge file must not be loaded into memory only to be refused.
    const { size } = fs.statSync(file);
    if (size > MAX_SPEC_BYTES) throw new SpecError(file, [specTooLarge(size)]);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SpecError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new TollgateError('FILE_NOT_FOUND', `${file}: file not found (looked for ${path.resolve(file)})`);
    if (code === 'EISDIR') throw new TollgateError('FILE_NOT_FOUND', `${file} is a folder; give the spec's YAML file`);
    throw new SpecError(file, [{ path: '', message: `cannot read the file: ${code ?? (err as Error).message}` }]);
  }
  const specDir = path.dirname(path.resolve(file));
  const spec = parseReleaseSpec(text, file, withCommitTime(overrides, specDir));
  return withAbsolutePaths(spec, specDir);
}

export function withAbsolutePaths(spec: ReleaseSpec, specDir: string): ReleaseSpec {
  const absolute = <T extends { provider: string; workingDirectory?: string }>(config: T): T =>
    config.provider === 'exec'
      ? { ...config, workingDirectory: path.resolve(specDir, config.workingDirectory ?? '.') }
      : config;
  return {
    ...spec,
    deploy: absolute(spec.deploy),
    ...(spec.traffic ? { traffic: absolute(spec.traffic) } : {}),
    analysis: Object.fromEntries(Object.entries(spec.analysis).map(([name, template]) => [name, absolute(template)])),
    ...(spec.database
      ? { database: { ...spec.database, migrations: path.resolve(specDir, spec.database.migrations) } }
      : {}),
  };
}

/** `--commit <sha>` without a time: ask git for the commit time, which lead time counts from. */
export function withCommitTime(overrides: SpecOverrides, dir: string): SpecOverrides {
  const commit = overrides.commit;
  if (!commit || commit.committedAt) return overrides;
  try {
    const committedAt = execFileSync('git', ['show', '-s', '--format=%cI', commit.sha], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return { ...overrides, commit: { ...commit, committedAt } };
  } catch {
    return overrides; // validation then says the commit time is required, and how to give it
  }
}
