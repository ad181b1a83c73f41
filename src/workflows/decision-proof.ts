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
 * Acts on a decision only once the worker has checked who sent it: `accept` gets the identity the
 * proof establishes (its id, groups, issuer and trust), `refuse` the reason it does not hold.
 * Workflows that took the decision before proofs existed take the claimed sender, as they did;
 * that path stays synchronous so their histories replay command for command.
 */
export function withProvenSender<T>(
  check: DecisionCheck,
  accept: (actor: Actor) => T,
  refuse: (reason: string) => T,
): T | Promise<T> {
  if (!patched(PATCHES.decisionProofs)) return accept(check.claimed);
  return identity.verifyDecision(check).then(
    (verdict) => (verdict.accepted ? accept(verdict.actor) : refuse(verdict.reason)),
    (err: unknown) => refuse(`the worker could not check who sent it: ${deepestMessage(err)}`),
  );
}
