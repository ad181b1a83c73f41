import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flagsToCleanUp } from '../../src/domain/flags';
import type { Actor, ReleaseSpecInput } from '../../src/domain/spec';
import { saveHistory } from '../support/exported-history';
import { eventually } from '../support/eventually';
import { execSpec, Journal } from '../support/exec-spec';
import { FlagService, type Evaluation } from '../support/flag-service';
import { expectReplays } from '../support/replays';
import { startTollgate, type TollgateUnderTest } from '../support/tollgate-under-test';

const alice: Actor = { id: 'alice', via: 'cli' };
const bob: Actor = { id: 'bob', via: 'slack' };

/** Users the evaluation is asked about: enough that a wrong percentage cannot pass for a right one. */
const USERS = Array.from({ length: 1000 }, (_, index) => `user-${index}`);
/** Five standard deviations of a binomial count: a correct rollout falls outside once in ~2 million. */
const SIGMAS = 5;

/** Is `count` of `n` users what a `percentage` rollout serves? Exact at 0 and 100, within 5σ between. */
function servesPercentage(count: number, n: number, percentage: number): boolean {
  const p = percentage / 100;
  return Math.abs(count - n * p) <= SIGMAS * Math.sqrt(n * p * (1 - p));
}

const enabledUsers = (evaluations: Map<string, Evaluation>) =>
  new Set([...evaluations].filter(([, evaluation]) => evaluation.enabled).map(([user]) => user));

/**
 * Holds the release after each flag step until the test has looked: an analysis template per
 * percentage whose exec command marks that it waits, then waits until the test opens it.
 */
class FlagGate {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-flag-gate-'));

  templates(percentages: number[]): NonNullable<ReleaseSpecInput['analysis']> {
    const dir = JSON.stringify(this.dir);
    return Object.fromEntries(
      percentages.map((percentage) => [
        `at-${percentage}`,
        {
          provider: 'exec' as const,
          command: `touch ${dir}/waiting-${percentage}; while [ ! -e ${dir}/open-${percentage} ]; do sleep 0.05; done`,
          timeout: '30m',
          interval: '1s',
        },
      ]),
    );
  }

  async heldAt(percentage: number): Promise<void> {
    await eventually(`the release held after setFlag ${percentage}`, () =>
      fs.existsSync(path.join(this.dir, `waiting-${percentage}`)) ? true : undefined,
    );
  }

  open(percentage: number): void {
    fs.writeFileSync(path.join(this.dir, `open-${percentage}`), '');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

let flags: FlagService;
let under: TollgateUnderTest;
let journal: Journal;

beforeAll(async () => {
  [flags, under] = await Promise.all([FlagService.start(), startTollgate('feature-flags')]);
  process.env.TEST_UNLEASH_ADMIN_TOKEN = flags.unleash.tokens.admin;
});

afterAll(async () => {
  await under?.stop();
  await flags?.stop();
});

beforeEach(() => (journal = new Journal()));
afterEach(() => journal.remove());

function flagSpec(service: string, steps: NonNullable<ReleaseSpecInput['strategy']['canary']>['steps'], analysis = {}) {
  return execSpec(journal, {
    service,
    environment: 'production',
    steps,
    analysis,
    flags: { provider: 'unleash', url: flags.url, token: 'env:TEST_UNLEASH_ADMIN_TOKEN', environment: 'production' },
  });
}

/**
 * Unleash's own evaluation of `flag` for `users`, once it has settled and `accept` takes it. Its
 * frontend API picks up changes a moment after they are made, possibly while a round of
 * questions is under way; two rounds in a row that agree were both answered from one state.
 */
async function settledEvaluation(
  flag: string,
  users: string[],
  accept: (evaluations: Map<string, Evaluation>) => boolean,
  what: string,
): Promise<Map<string, Evaluation>> {
  let previous: string | undefined;
  return eventually(what, async () => {
    const evaluations = await flags.evaluate(flag, users);
    const answers = JSON.stringify(users.map((user) => evaluations.get(user)));
    const settled = answers === previous;
    previous = answers;
    return settled && accept(evaluations) ? evaluations : undefined;
  });
}

/** The users Unleash serves `flag` to, once it serves it to `percentage` of them. */
async function servedAt(flag: string, percentage: number): Promise<Set<string>> {
  const evaluations = await settledEvaluation(
    flag,
    USERS,
    (evaluations) => servesPercentage(enabledUsers(evaluations).size, USERS.length, percentage),
    `Unleash to serve ${flag} to ${percentage}% of users`,
  );
  return enabledUsers(evaluations);
}

/** Saves a finished release's history under test/replay/histories/flags/ when RECORD_HISTORIES=1. */
async function recordHistory(name: string, workflowId: string): Promise<void> {
  if (process.env.RECORD_HISTORIES === '1')
    await saveHistory(path.join(__dirname, '../replay/histories/flags'), name, workflowId);
}

describe('setFlag steps against a real Unleash', () => {
  it("rolls a flag out 0 → 5% → 50% → 100%, Unleash's own evaluation serving each percentage to the same users as it grows", async () => {
    const flag = 'new-checkout';
    await flags.createFlag(flag);
    const gate = new FlagGate();
    const percentages = [0, 5, 50, 100];
    const spec = flagSpec(
      'flags-rollout',
      [
        { setWeight: 100 },
        ...percentages.flatMap((percentage) => [
          { setFlag: { flag, percentage, stickiness: 'userId' } },
          { analysis: { templates: [`at-${percentage}`] } },
        ]),
      ],
      gate.templates(percentages),
    );
    const { releaseId } = await under.tollgate.releases.start(spec, alice);
    let previous = new Set<string>();
    try {
      for (const percentage of percentages) {
        await gate.heldAt(percentage);
        const state = await flags.state(flag);
        expect(state.enabled).toBe(true);
        expect(state.strategies).toEqual([
          expect.objectContaining({
            name: 'flexibleRollout',
            title: 'tollgate: everyone',
            parameters: expect.objectContaining({ rollout: String(percentage), stickiness: 'userId' }),
          }),
        ]);
        const enabled = await servedAt(flag, percentage);
        // Sticky: every user who had the flag keeps it as the percentage grows.
        expect([...previous].filter((user) => !enabled.has(user))).toEqual([]);
        previous = enabled;
        gate.open(percentage);
      }
      const result = await under.tollgate.releases.result(releaseId);
      expect(result.outcome).toBe('Succeeded');
      expect(previous.size).toBe(USERS.length);
      const status = await under.tollgate.releases.status(releaseId);
      expect(status.flags).toEqual([{ flag, percentage: 100 }]);
      expect(flagsToCleanUp(status)).toEqual([flag]);
      await expectReplays(under.tollgate.client, releaseId);
      await recordHistory('rollout-succeeded', releaseId);
    } finally {
      gate.remove();
    }
  });

  it('turns a flag on for a segment of internal users only, with its variant, and lists no clean-up for it', async () => {
    const flag = 'new-pricing';
    await flags.createFlag(flag);
    await flags.createSegment('internal-users', [
      {
        contextName: 'userId',
        operator: 'STR_ENDS_WITH',
        values: ['@example.com'],
        inverted: false,
        caseInsensitive: false,
      },
    ]);
    const spec = flagSpec('flags-segment', [
      { setWeight: 100 },
      { setFlag: { flag, segment: 'internal-users', percentage: 100, variant: 'blue' } },
    ]);
    const { releaseId } = await under.tollgate.releases.start(spec, alice);
    expect((await under.tollgate.releases.result(releaseId)).outcome).toBe('Succeeded');

    const staff = Array.from({ length: 50 }, (_, index) => `staff-${index}@example.com`);
    const everyoneElse = USERS.slice(0, 200);
    const served = await settledEvaluation(
      flag,
      [...staff, ...everyoneElse],
      (evaluations) => enabledUsers(evaluations).size > 0,
      'Unleash to serve the flag to internal users',
    );
    expect(staff.map((user) => served.get(user))).toEqual(staff.map(() => ({ enabled: true, variant: 'blue' })));
    expect(everyoneElse.filter((user) => served.get(user)?.enabled)).toEqual([]);
    const status = await under.tollgate.releases.status(releaseId);
    expect(status.flags).toEqual([{ flag, percentage: 100, segment: 'internal-users', variant: 'blue' }]);
    expect(flagsToCleanUp(status)).toEqual([]);
  });

  it('puts the flag back exactly as the release found it when the release is rejected at 50%', async () => {
    const flag = 'new-search';
    await flags.createFlag(flag);
    // The flag was already on for 10% of users by a strategy of its owner's: the rollback keeps it.
    await flags.addStrategy(flag, {
      name: 'flexibleRollout',
      title: 'owner: 10%',
      constraints: [],
      parameters: { rollout: '10', stickiness: 'userId', groupId: flag },
    });
    await flags.turnOn(flag);
    const before = await flags.state(flag);
    const servedBefore = await servedAt(flag, 10);

    const spec = flagSpec('flags-reject', [
      { setWeight: 100 },
      { setFlag: { flag, percentage: 5, stickiness: 'userId' } },
      { setFlag: { flag, percentage: 50, stickiness: 'userId' } },
      { approval: { from: ['bob'] } },
      { setFlag: { flag, percentage: 100, stickiness: 'userId' } },
    ]);
    const { releaseId } = await under.tollgate.releases.start(spec, alice);
    await eventually('the release to wait for approval at 50%', async () =>
      (await under.tollgate.releases.status(releaseId)).pendingApproval ? true : undefined,
    );
    expect((await flags.state(flag)).strategies).toHaveLength(2);
    await servedAt(flag, 50);

    await under.tollgate.releases.reject(releaseId, { approver: bob, reason: 'conversion dropped' });
    const result = await under.tollgate.releases.result(releaseId);
    expect(result).toMatchObject({ outcome: 'RolledBack', reason: 'rejected by bob: conversion dropped' });

    expect(await flags.state(flag)).toEqual(before);
    expect(await servedAt(flag, 10)).toEqual(servedBefore);
    const status = await under.tollgate.releases.status(releaseId);
    expect(status.flags).toEqual([{ flag, percentage: 50, restored: true }]);
    expect(flagsToCleanUp(status)).toEqual([]);
    await expectReplays(under.tollgate.client, releaseId);
    await recordHistory('rejected-at-50', releaseId);
  });
});
