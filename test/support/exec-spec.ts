import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { validateReleaseSpec } from '../../src/domain/parse-spec';
import type { ReleaseSpec, ReleaseSpecInput } from '../../src/domain/spec';

/**
 * A folder with a journal: every exec command of a test spec appends a line to it, so tests
 * can read back exactly what Tollgate did to the world, in order.
 */
export class Journal {
  readonly dir: string;
  readonly file: string;

  constructor(prefix = 'tollgate-journal-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.file = path.join(this.dir, 'journal.log');
    fs.writeFileSync(this.file, '');
  }

  lines(): string[] {
    return fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
  }

  /** A shell snippet that appends `text` (expanded by the shell) to the journal. */
  append(text: string): string {
    return `echo "${text}" >> "$JOURNAL"`;
  }

  /** A spec catalogue in the journal's folder, as the Slack app and the CI trigger read one. */
  get catalogue(): string {
    return path.join(this.dir, 'catalogue');
  }

  /** Puts a spec in the catalogue as `<service>/<environment>.yaml`. */
  putInCatalogue(spec: { service: string; environment: string; [field: string]: unknown }): void {
    const dir = path.join(this.catalogue, spec.service);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${spec.environment}.yaml`), YAML.stringify(spec));
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ExecSpecOptions {
  service: string;
  environment?: string;
  version?: string;
  steps: NonNullable<ReleaseSpecInput['strategy']['canary']>['steps'];
  bake?: string;
  deploy?: string;
  undeploy?: string;
  setWeight?: string;
  analysis?: ReleaseSpecInput['analysis'];
  approvals?: ReleaseSpecInput['approvals'];
  execution?: ReleaseSpecInput['execution'];
  database?: ReleaseSpecInput['database'];
  verification?: ReleaseSpecInput['verification'];
  flags?: ReleaseSpecInput['flags'];
  /** More variables for the deploy and traffic commands (values may be env:NAME). */
  env?: Record<string, string>;
}

/** A canary spec on the exec provider whose commands write to the journal. */
export function execSpec(journal: Journal, options: ExecSpecOptions): ReleaseSpec {
  const env = { JOURNAL: journal.file, ...options.env };
  const input: ReleaseSpecInput = {
    service: options.service,
    environment: options.environment ?? 'staging',
    version: options.version ?? '2.0.0',
    commit: { sha: 'abc1234', committedAt: new Date(Date.now() - 3_600_000).toISOString() },
    deploy: {
      provider: 'exec',
      deploy: options.deploy ?? journal.append('deploy $TOLLGATE_VERSION'),
      undeploy: options.undeploy ?? journal.append('undeploy $TOLLGATE_VERSION'),
      workingDirectory: journal.dir,
      env,
      timeout: '30s',
    },
    traffic: {
      provider: 'exec',
      setWeight: options.setWeight ?? journal.append('setWeight $TOLLGATE_WEIGHT'),
      workingDirectory: journal.dir,
      env,
      timeout: '30s',
    },
    strategy: { canary: { steps: options.steps, bake: options.bake } },
    analysis: options.analysis,
    approvals: options.approvals,
    execution: { attempts: 2, heartbeatTimeout: '5s', stepTimeout: '2m', rollbackTimeout: '5m', ...options.execution },
    database: options.database,
    verification: options.verification,
    flags: options.flags,
  };
  return validateReleaseSpec(input, 'test spec');
}
