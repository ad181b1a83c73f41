import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { EVENTUALLY_DEADLINE_MS, eventually } from './eventually';
import { testEnv } from './stack-env';
import { required } from '../../src/domain/required';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tollgate');

export interface WorkerProcess {
  pid: number;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGKILL to the worker's whole process group: no drain, no goodbye, as when a machine dies. */
  kill(): Promise<void>;
  /** SIGTERM: the worker drains and exits. */
  stop(): Promise<number | null>;
  /** SIGTERM, then resolves once the worker says it is draining (it takes no new work from then on). */
  startDraining(): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * A real `tollgate worker` process against the test Temporal server, using the prebuilt workflow
 * bundle. Resolves once the worker says it is running.
 */
export async function startWorkerProcess(options: {
  taskQueue: string;
  databaseUrl: string;
  env?: Record<string, string>;
}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testEnv('temporalAddress'),
      DATABASE_URL: options.databaseUrl,
      TOLLGATE_TASK_QUEUE: options.taskQueue,
      TOLLGATE_WORKFLOW_BUNDLE: testEnv('workflowBundle'),
      TOLLGATE_SHUTDOWN_GRACE: '2s',
      LOG_LEVEL: 'info',
      // Local mode, unless a test is about identity.
      TOLLGATE_AUTH: 'none',
      ...options.env,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not start within ${EVENTUALLY_DEADLINE_MS / 1000}s:\n${output}`)),
      EVENTUALLY_DEADLINE_MS,
    );
    const check = () => {
      if (output.includes('worker running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it started:\n${output}`));
    });
  });

  return {
    pid: required(child.pid, 'worker pid'),
    output: () => output,
    kill: async () => {
      process.kill(-required(child.pid, 'worker pid'), 'SIGKILL');
      await exited;
    },
    stop: async () => {
      process.kill(required(child.pid, 'worker pid'), 'SIGTERM');
      return exited;
    },
    startDraining: async () => {
      process.kill(required(child.pid, 'worker pid'), 'SIGTERM');
      await eventually('the worker to say it drains', () => (output.includes('draining') ? true : undefined));
    },
    exited,
  };
}
