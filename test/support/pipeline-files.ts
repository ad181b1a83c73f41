import fs from 'node:fs';
import path from 'node:path';
import type { PipelineSpecInput } from '../../src/domain/pipeline-spec';
import type { ReleaseSpecInput } from '../../src/domain/spec';
import type { Journal } from './exec-spec';

export interface PipelineFilesOptions {
  service: string;
  environments: PipelineSpecInput['environments'];
  /** The shared release spec's verification. */
  verification?: ReleaseSpecInput['verification'];
  steps?: NonNullable<ReleaseSpecInput['strategy']['canary']>['steps'];
  /** A shell condition under which the deploy command waits for the file `$GO` (to hold a release). */
  holdDeployWhen?: string;
}

/**
 * Writes a pipeline file and the release spec it names into the journal's folder, as a service's
 * repository would hold them (JSON is YAML), and returns the pipeline file's path. Every exec
 * command writes "<action> <environment> <version>" to the journal.
 */
export function writePipelineFiles(journal: Journal, options: PipelineFilesOptions): string {
  const env = { JOURNAL: journal.file, GO: path.join(journal.dir, 'go') };
  const log = (what: string) => `echo "${what} $TOLLGATE_ENVIRONMENT $TOLLGATE_VERSION" >> "$JOURNAL"`;
  const hold = options.holdDeployWhen
    ? `if ${options.holdDeployWhen}; then while [ ! -e "$GO" ]; do sleep 0.05; done; fi; `
    : '';
  const release = {
    service: options.service,
    environment: 'staging',
    version: '0.0.0',
    deploy: { provider: 'exec', deploy: hold + log('deploy'), undeploy: log('undeploy'), env, timeout: '5m' },
    traffic: {
      provider: 'exec',
      setWeight: `echo "setWeight $TOLLGATE_ENVIRONMENT $TOLLGATE_VERSION $TOLLGATE_WEIGHT" >> "$JOURNAL"`,
      env,
      timeout: '30s',
    },
    strategy: { canary: { steps: options.steps ?? [{ setWeight: 100 }] } },
    execution: { attempts: 2, heartbeatTimeout: '5s', stepTimeout: '10m', rollbackTimeout: '5m' },
    ...(options.verification ? { verification: options.verification } : {}),
  };
  fs.writeFileSync(path.join(journal.dir, 'release.yaml'), JSON.stringify(release, null, 2));
  const pipeline: PipelineSpecInput = {
    service: options.service,
    release: './release.yaml',
    environments: options.environments,
  };
  const file = path.join(journal.dir, 'pipeline.yaml');
  fs.writeFileSync(file, JSON.stringify(pipeline, null, 2));
  return file;
}

/** Lets a deploy held by holdDeployWhen go on. */
export function letDeploysGo(journal: Journal): void {
  fs.writeFileSync(path.join(journal.dir, 'go'), '');
}
