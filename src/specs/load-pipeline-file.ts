import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseDeployWindow } from '../domain/deploy-window';
import { SpecError, TollgateError, type SpecProblem } from '../domain/errors';
import { validateReleaseSpec } from '../domain/parse-spec';
import { PipelineSpec, ReleaseOverrides } from '../domain/pipeline-spec';
import type { PipelineStage } from '../domain/pipeline';
import { Commit } from '../domain/spec';
import { withAbsolutePaths, withCommitTime } from './load-spec-file';

/** What a pipeline run is started for: the commit (its time from git when not given) and the version built from it. */
export interface PipelineRequest {
  commit: { sha: string; committedAt?: string; message?: string };
  /** The version every environment releases; the commit's sha (12 digits) when not given. */
  version?: string;
}

export interface LoadedPipeline {
  spec: PipelineSpec;
  version: string;
  commit: Commit;
  stages: PipelineStage[];
}

/**
 * Reads a pipeline file and every release spec it names, and resolves each environment's full
 * release spec: the file's own spec with the environment's overrides, the environment's name, and
 * the run's version and commit. Every problem in every file is reported before anything starts.
 */
export function loadPipelineFile(file: string, request: PipelineRequest): LoadedPipeline {
  const dir = path.dirname(path.resolve(file));
  const raw = readYaml(file, 'the pipeline file must be a YAML mapping with service and environments');
  const parsed = PipelineSpec.safeParse(raw);
  if (!parsed.success)
    throw new SpecError(
      file,
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  const spec = parsed.data;
  const withTime = withCommitTime(
    { commit: { ...request.commit, committedAt: request.commit.committedAt ?? '' } },
    dir,
  ).commit;
  const commit = Commit.safeParse({ ...withTime, committedAt: withTime?.committedAt || undefined });
  if (!commit.success)
    throw new SpecError(
      'the start request',
      commit.error.issues.map((issue) => ({
        path: `commit.${issue.path.map(String).join('.')}`,
        message:
          issue.path[0] === 'committedAt'
            ? 'required: the commit time (--committed-at), or run where git knows the commit'
            : issue.message,
      })),
    );
  const version = request.version ?? commit.data.sha.slice(0, 12);

  const problems: SpecProblem[] = [];
  const stages: PipelineStage[] = [];
  spec.environments.forEach((environment, index) => {
    const releaseFile = path.resolve(dir, environment.release ?? spec.release ?? '');
    const where = `${path.relative(process.cwd(), releaseFile) || releaseFile} (environment ${environment.name})`;
    try {
      const release = readYaml(releaseFile, 'a release spec must be a YAML mapping');
      if (release.service !== undefined && release.service !== spec.service)
        throw new SpecError(where, [
          {
            path: 'service',
            message: `is ${JSON.stringify(release.service)}, but the pipeline releases ${spec.service}`,
          },
        ]);
      const overrides = Object.fromEntries(
        Object.entries(ReleaseOverrides.parse(environment.overrides ?? {})).filter(([, value]) => value !== undefined),
      );
      const resolved = validateReleaseSpec(
        {
          ...release,
          ...overrides,
          service: spec.service,
          environment: environment.name,
          version,
          commit: commit.data,
        },
        where,
      );
      stages.push({
        environment: environment.name,
        spec: withAbsolutePaths(resolved, path.dirname(releaseFile)),
        gate: {
          ...(environment.gate?.soak ? { soak: environment.gate.soak } : {}),
          windows: (environment.gate?.windows ?? []).map(parseDeployWindow),
          ...(environment.gate?.approval ? { approval: environment.gate.approval } : {}),
        },
      });
    } catch (err) {
      if (err instanceof SpecError)
        problems.push(
          ...err.problems.map((problem) => ({
            ...problem,
            path: `environments.${index} ${err.origin}: ${problem.path}`,
          })),
        );
      else if (err instanceof TollgateError)
        problems.push({ path: `environments.${index}.release`, message: err.message });
      else throw err;
    }
  });
  if (problems.length > 0) throw new SpecError(file, problems);
  return { spec, version, commit: commit.data, stages };
}

/** The service and its environments in order, from a pipeline file alone (for reports). */
export function pipelineEnvironments(file: string): { service: string; environments: string[] } {
  const parsed = PipelineSpec.safeParse(
    readYaml(file, 'the pipeline file must be a YAML mapping with service and environments'),
  );
  if (!parsed.success)
    throw new SpecError(
      file,
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    );
  return {
    service: parsed.data.service,
    environments: parsed.data.environments.map((environment) => environment.name),
  };
}

function readYaml(file: string, shape: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TollgateError('FILE_NOT_FOUND', `${file}: file not found`);
    throw new TollgateError('FILE_NOT_FOUND', `${file}: cannot read the file (${code ?? (err as Error).message})`);
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0)
    throw new SpecError(file, [{ path: '', message: `${document.errors[0].message.split('\n')[0]} (YAML syntax)` }]);
  const raw: unknown = document.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new SpecError(file, [{ path: '', message: shape }]);
  return raw as Record<string, unknown>;
}
