import type { Fence } from '../domain/fence';
import { FailureType } from '../domain/failures';
import { ProviderError } from './context';

/**
 * A write refused because a newer attempt (a retry, a rollback) has written since this one began.
 * Never retried: the attempt is over, and the newer writer's state must stand.
 */
export class StaleWriteRefused extends ProviderError {
  constructor(
    message: string,
    readonly fence: Fence,
    readonly newerToken: number,
  ) {
    super(message, false, FailureType.StaleWriteRefused);
    this.name = 'StaleWriteRefused';
  }
}
