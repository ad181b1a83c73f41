import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import YAML from 'yaml';

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

  it('builds what its build stage builds: compiled code and a workflow bundle that replays recorded releases', async () => {
    await run('npm', ['run', 'build:image'], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
    const bundle = path.join(ROOT, 'dist', 'workflow-bundle.js');
    expect(fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
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
    // The compiled CLI runs, as the image's entrypoint does.
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'main.js'), '--help']);
    expect(stdout).toContain('Usage: tollgate');
  });
});
