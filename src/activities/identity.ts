import type { DecisionCheck, DecisionVerdict } from '../domain/decision';
import type { ActivityDeps } from './deps';

/**
 * The worker's check of a decision's proof, as an ordinary activity: its verdict is recorded in
 * the workflow's history, so a replay never checks a token again (it may have expired since).
 * Checking changes nothing, so running it twice gives the same verdict for as long as the proof holds.
 */
export function createIdentityActivities({ identity }: Pick<ActivityDeps, 'identity'>) {
  return {
    async verifyDecision(check: DecisionCheck): Promise<DecisionVerdict> {
      return identity.verify(check);
    },
  };
}
