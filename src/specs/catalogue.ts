import fs from 'node:fs';
import path from 'node:path';
import { NotFound } from '../domain/errors';
import type { SpecOverrides } from '../domain/parse-spec';
import type { ReleaseSpec } from '../domain/spec';
import { loadPipelineFile, type LoadedPipeline, type PipelineRequest } from './load-pipeline-file';
import { loadSpecFile } from './load-spec-file';

/**
 * The spec catalogue: a folder with one YAML per service and environment, as
 * `<service>/<environment>.yaml`. Slack and the CI trigger start releases only from it, so what
 * runs on workers is what the platform team reviewed, never what a request carries.
 *
 * Pipelines live beside them as `<service>/pipelines/<pipeline>.yaml` (the pipeline named after
 * the service when a request names none), naming release specs relative to themselves.
 */
export class SpecCatalogue {
  constructor(readonly dir: string) {}

  file(service: string, environment: string): string {
    return path.join(this.dir, service, `${environment}.yaml`);
  }

  /** Services and their environments, for menus and error messages. */
  entries(): { service: string; environments: string[] }[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => ({
        service: entry.name,
        environments: fs
          .readdirSync(path.join(this.dir, entry.name))
          .filter((file) => file.endsWith('.yaml'))
          .map((file) => file.replace(/\.yaml$/, ''))
          .sort(),
      }))
      .filter((entry) => entry.environments.length > 0)
      .sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The spec of a service in an environment, with the version (and commit) filled in. */
  load(service: string, environment: string, overrides: SpecOverrides): ReleaseSpec {
    const file = this.file(service, environment);
    if (!/^[a-z0-9-]+$/.test(service) || !/^[a-z0-9-]+$/.test(environment) || !fs.existsSync(file)) {
      const known = this.entries().map((entry) => `${entry.service} (${entry.environments.join(', ')})`);
      throw new NotFound(
        `no release spec for ${service} in ${environment}; the catalogue has ${known.join('; ') || 'no specs'}`,
      );
    }
    return loadSpecFile(file, overrides);
  }

  pipelineFile(service: string, pipeline = service): string {
    return path.join(this.dir, service, 'pipelines', `${pipeline}.yaml`);
  }

  /** A service's pipeline, resolved for one commit. */
  loadPipeline(service: string, pipeline: string | undefined, request: PipelineRequest): LoadedPipeline {
    const file = this.pipelineFile(service, pipeline);
    if (!/^[a-z0-9-]+$/.test(service) || !/^[a-z0-9-]*$/.test(pipeline ?? '') || !fs.existsSync(file))
      throw new NotFound(
        `no pipeline ${pipeline ?? service} for ${service}; put it in the catalogue as ${path.relative(this.dir, file)}`,
      );
    return loadPipelineFile(file, request);
  }
}
