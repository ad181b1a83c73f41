import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { testEnv } from '../support/stack-env';

/** The part of a recorded history this test reads itself. */
interface RecordedHistory {
  events: { workflowExecutionStartedEventAttributes: { workflowType: { name: string } } }[];
}

/**
 * Replays recorded histories against today's workflow code. A failure means a change would break
 * releases already running: guard it with patched() (see docs/architecture.md), or, when no
 * release in any cluster can be running the old code, record the histories again.
 */
const HISTORIES = path.join(__dirname, 'histories');
/** Every recorded history, old ones in folders named for the change they predate (before-fencing/...). */
const files = fs
  .readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .sort();

describe('recorded histories', () => {
  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // already installed by another test in this process
    }
  });

  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(14);
  });

  it('cover every workflow the worker runs', () => {
    const types = new Set(
      files.map(
        (file) =>
          (JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as RecordedHistory).events[0]
            .workflowExecutionStartedEventAttributes.workflowType.name,
      ),
    );
    // What the worker bundles, read from src/workflows/index.ts (`export { xWorkflow } from ...`).
    const index = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'workflows', 'index.ts'), 'utf8');
    const bundled = [...index.matchAll(/export \{ (\w+) \}/g)].map((match) => match[1]);
    expect([...types].sort()).toEqual(bundled.sort());
  });

  it.each(files)('%s replays without non-determinism', async (file) => {
    // The JSON `temporal workflow show --output json` writes; the replayer converts it itself.
    const history: unknown = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    await Worker.runReplayHistory(
      { workflowBundle: { code: fs.readFileSync(testEnv('workflowBundle'), 'utf8') }, replayName: file },
      history,
      path.basename(file).replace(/\.json$/, ''),
    );
  });
});
