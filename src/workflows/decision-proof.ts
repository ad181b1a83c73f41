import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { deepestMessage } from '../domain/failures';
import type { Actor } from '../domain/spec';
import type { DecisionCheck } from '../domain/decision';
import { PATCHES } from './release/patches';

/**
 * Checking a proof reads the issuer's keys at most: a few quick tries, then the decision is
 * refused with the reason (the person tries again; the workflow never waits long for it).
 */
const identity = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/**
 * The last decision (or message that must not overtake one) to take effect in this workflow.
 * Module state is the workflow's own: every workflow runs in its own context.
 */
let lastInLine: Promise<void> = Promise.resolve();

/**
 * Acts on a decision only once the worker has checked who sent it: `accept` gets the identity the
 * proof establishes (its id, groups, issuer and trust), `refuse` the reason it does not hold.
 * Proofs are checked side by side, but decisions take effect in the order they arrived: a freeze
 * followed by an unfreeze leaves the lane unfrozen, however long the freeze's proof took.
 * Workflows that took the decision before proofs existed take the claimed sender, as they did;
 * that path stays synchronous so their histories replay command for command.
 */
export function withProvenSender<T>(
  check: DecisionCheck,
  accept: (actor: Actor) => T,
  refuse: (reason: string) => T,
): T | Promise<T> {
  if (!patched(PATCHES.decisionProofs)) return accept(check.claimed);
  const decide = identity.verifyDecision(check).then(
    (verdict) => () => (verdict.accepted ? accept(verdict.actor) : refuse(verdict.reason)),
    (err: unknown) => () => refuse(`the worker could not check who sent it: ${deepestMessage(err)}`),
  );
  if (!patched(PATCHES.decisionsInArrivalOrder)) return decide.then((act) => act());
  return inArrivalOrder(() => decide.then((act) => act()));
}

/**
 * Runs `effect` once every decision that arrived before it has taken effect (or been refused),
 * for messages that must not overtake a decision: a release joining a lane right after a freeze
 * waits for the freeze. Workflows from before this ordering run it at once, as they did.
 */
export function afterEarlierDecisions<T>(effect: () => T): T | Promise<T> {
  if (!patched(PATCHES.decisionsInArrivalOrder)) return effect();
  return inArrivalOrder(async () => effect());
}

function inArrivalOrder<T>(effect: () => Promise<T>): Promise<T> {
  const turn = lastInLine.then(effect);
  lastInLine = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}
