import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseClient } from '../src/client/release-client';
import { startInProcessWorker } from '../src/demo/in-process-worker';
import { startLocalStack } from '../src/devstack/local-stack';
import { validateReleaseSpec } from '../src/domain/parse-spec';

/** Playwright's browser API, as much as this script uses (playwright-core is installed by the .sh beside it). */
interface Page {
  goto(url: string): Promise<unknown>;
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  addInitScript(script: string): Promise<unknown>;
  locator(selector: string): { first(): { isVisible(): Promise<boolean> } };
  keyboard: { press(key: string): Promise<void> };
  getByText(text: string | RegExp): {
    first(): { waitFor(options?: { timeout?: number }): Promise<unknown>; click(): Promise<unknown> };
  };
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- installed beside the script, not a dependency
const { chromium } = require('playwright-core') as {
  chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> };
};

/** Columns the docs tell people to add (docs/temporal-ui.md); the UI keeps them in localStorage. */
const COLUMNS = ['Status', 'Workflow ID', 'ReleaseStage', 'ReleaseWeight', 'ReleaseInitiator', 'Start', 'End'];

function spec(service: string, version: string) {
  return validateReleaseSpec(
    {
      service,
      environment: 'production',
      version,
      deploy: { provider: 'exec', deploy: 'true', undeploy: 'true' },
      traffic: { provider: 'exec', setWeight: 'true' },
      strategy: {
        canary: {
          steps: [{ setWeight: 10 }, { setWeight: 50 }, { approval: { from: ['bob', 'carol'] } }, { setWeight: 100 }],
        },
      },
    },
    'screenshots',
  );
}

async function untilApproval(releases: ReleaseClient, releaseId: string): Promise<void> {
  for (const deadline = Date.now() + 120_000; !(await releases.status(releaseId)).pendingApproval; await sleep(200))
    if (Date.now() > deadline) throw new Error(`${releaseId} never reached its approval`);
}

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'docs/images');
  fs.mkdirSync(out, { recursive: true });
  const stack = await startLocalStack({
    persistent: false,
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-screenshots-')),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const worker = await startInProcessWorker(stack.temporal.address, stack.databaseUrl, 'tollgate');
  const releases = worker.releases;
  const alice = { id: 'alice', via: 'cli' as const };
  let browser: Browser | undefined;
  try {
    const succeeded = (await releases.start(spec('checkout', '2.4.0'), alice)).releaseId;
    const rejected = (await releases.start(spec('payments', '1.8.0'), alice)).releaseId;
    const waiting = (await releases.start(spec('search', '3.1.0'), alice)).releaseId;
    await untilApproval(releases, succeeded);
    await releases.approve(succeeded, { approver: { id: 'bob', via: 'cli' }, comment: 'dashboards look good' });
    await untilApproval(releases, rejected);
    await releases.reject(rejected, { approver: { id: 'carol', via: 'cli' }, reason: 'p99 latency up 40%' });
    await Promise.all([releases.result(succeeded), releases.result(rejected)]);
    await untilApproval(releases, waiting);

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1500, height: 700 } });
    await page.addInitScript(
      `localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify({ default: COLUMNS.map((label) => ({ label })) }))});`,
    );
    const ui = stack.uiUrl ?? '';
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent('WorkflowType="releaseWorkflow"')}`);
    await page.getByText(rejected).first().waitFor({ timeout: 60_000 });
    await page.getByText('RolledBack').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(out, 'temporal-ui-release-list.png') });

    // A running release: its current details (under "User Metadata" in this UI), which the UI
    // asks the worker for with a query; "r" asks again until they show.
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(waiting)}`);
    await page.getByText(waiting).first().waitFor({ timeout: 60_000 });
    await page.getByText('User Metadata').first().click();
    const details = page.locator('text=awaiting approval from >> visible=true').first();
    for (const deadline = Date.now() + 60_000; !(await details.isVisible()); await sleep(2000)) {
      if (Date.now() > deadline) {
        process.stderr.write(
          `note: could not confirm the current details of ${waiting} showed within a minute; look at the screenshot\n`,
        );
        break;
      }
      await page.keyboard.press('r');
    }
    await page.screenshot({ path: path.join(out, 'temporal-ui-waiting-release.png') });
    // A finished release: red, with the reason, at the top of its page.
    await page.goto(`${ui}/namespaces/default/workflows/${encodeURIComponent(rejected)}`);
    await page.getByText('RolledBack: rejected by carol').first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(out, 'temporal-ui-rolled-back-release.png') });

    process.stderr.write(`screenshots in ${out}\n`);
  } finally {
    await browser?.close();
    await worker.stop();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
