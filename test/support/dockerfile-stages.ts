import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Instruction {
  keyword: 'COPY' | 'RUN' | 'WORKDIR' | 'ENV';
  args: string;
  /** COPY --from=<stage>: copies from another stage, not the build context. */
  from?: string;
}

export interface Stage {
  name: string;
  /** The image or earlier stage it starts from. */
  base: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, with the instructions a build runs (comments and line continuations handled). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!match) throw new Error(`cannot read FROM ${args}`);
      stages.push({ base: match[1], name: match[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`${keyword} before any FROM`);
    if (keyword === 'COPY') {
      const from = /^--from=(\S+)\s+/.exec(args);
      stage.instructions.push({ keyword, args: from ? args.slice(from[0].length) : args, from: from?.[1] });
    } else if (keyword === 'RUN' || keyword === 'WORKDIR' || keyword === 'ENV') {
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The stage and the stages it builds on, oldest first. */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const stage = stages.find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  const parent = stages.find((candidate) => candidate.name === stage.base);
  return parent ? [...stageChain(stages, parent.name), stage] : [stage];
}

/** .dockerignore's patterns as Docker reads them: relative to the context's root, `*` within one path segment. */
function ignoredBy(patterns: string[]): (relative: string) => boolean {
  const expressions = patterns.map(
    (pattern) =>
      new RegExp(
        `^${pattern
          .replace(/\/$/, '')
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')}(/.*)?$`,
      ),
  );
  return (relative) => expressions.some((expression) => expression.test(relative));
}

/**
 * Runs a stage chain as `docker build` would, without Docker: each stage's WORKDIR becomes a
 * folder of `root` (named after the path), COPY takes files from `context` (less .dockerignore)
 * or from an earlier stage's folder, and RUN runs there with the host's Node (the base images
 * are Node 20 too). What a COPY line does not copy is simply not there.
 */
export async function runStages(
  chain: Stage[],
  context: string,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
  earlier: Record<string, string> = {},
): Promise<Record<string, string>> {
  const ignored = ignoredBy(
    fs
      .readFileSync(path.join(context, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#')),
  );
  const folders: Record<string, string> = { ...earlier };
  let workdir = root;
  let stageEnv = { ...env };
  for (const stage of chain) {
    for (const instruction of stage.instructions) {
      if (instruction.keyword === 'WORKDIR') {
        workdir = path.join(root, instruction.args.replace(/^\//, '').replace(/\//g, '_'));
        fs.mkdirSync(workdir, { recursive: true });
      } else if (instruction.keyword === 'ENV') {
        for (const match of instruction.args.matchAll(/(\w+)=(\S+)/g)) stageEnv = { ...stageEnv, [match[1]]: match[2] };
      } else if (instruction.keyword === 'COPY') {
        const parts = instruction.args.split(/\s+/);
        const destination = parts.pop() ?? '.';
        const from = instruction.from;
        const sourceRoot = from ? folders[from] : context;
        if (!sourceRoot) throw new Error(`COPY --from=${from}: that stage has not run`);
        for (const source of parts) {
          const fromPath = from ? path.join(sourceRoot, source.replace(/^\/[^/]+\//, '')) : path.join(context, source);
          const target = destination.endsWith('/')
            ? path.join(workdir, destination, path.basename(source))
            : path.join(workdir, destination);
          fs.cpSync(fromPath, target, {
            recursive: true,
            filter: (file) => from !== undefined || !ignored(path.relative(context, file)),
          });
        }
      } else {
        await run('sh', ['-c', instruction.args], {
          cwd: workdir,
          env: stageEnv,
          maxBuffer: 64 * 1024 * 1024,
          timeout: 20 * 60_000,
        }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
          const output = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
          throw new Error(`stage ${stage.name}: RUN ${instruction.args} failed:\n${output}`);
        });
      }
    }
    folders[stage.name] = workdir;
  }
  return folders;
}
