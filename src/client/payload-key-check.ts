import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { announcedKeyIds, encryptionCodecOf } from '../codec/key-announcement';
import { TollgateError } from '../domain/errors';

/** How long a check that passed is trusted: workers change with deployments, not per request. */
const CHECK_VALID_MS = 30_000;

/** A client about to encrypt with a key that a worker polling its task queue does not hold. */
export class PayloadKeyNotAnnounced extends TollgateError {
  constructor(keyId: string, taskQueue: string, workers: { identity: string; keyIds: string[] }[]) {
    super(
      'PAYLOAD_KEY_NOT_ANNOUNCED',
      `nothing was sent: this client encrypts with payload key "${keyId}", but worker ${workers.map((worker) => `${worker.identity.split(' ')[0]} (keys: ${worker.keyIds.join(', ') || 'none'})`).join(', ')} on task queue ${taskQueue} cannot decrypt it, and every workflow task it picked up would fail. ` +
        `Give the workers key "${keyId}" in TOLLGATE_PAYLOAD_KEYS (after their current key, so they keep reading older histories) and restart them, or put a key they hold first in this client's TOLLGATE_PAYLOAD_KEYS`,
    );
  }
}

/**
 * Before a client writes an encrypted payload into a task queue, checks that every worker polling
 * it announces the client's encrypting key (src/codec/key-announcement.ts). Workers that announce
 * nothing (older versions) and a queue with no worker yet are given the benefit of the doubt.
 */
export class PayloadKeyCheck {
  private passedAt = -Infinity;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly now: () => number = Date.now,
  ) {}

  async ensureWorkersCanDecrypt(): Promise<void> {
    const codec = encryptionCodecOf(this.client.options.loadedDataConverter);
    if (!codec || this.now() - this.passedAt < CHECK_VALID_MS) return;
    const { pollers } = await this.client.workflowService.describeTaskQueue({
      namespace: this.client.options.namespace,
      taskQueue: { name: this.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const lacking = (pollers ?? []).flatMap(({ identity }) => {
      const keyIds = announcedKeyIds(identity ?? '');
      return keyIds && !keyIds.includes(codec.encryptingKeyId) ? [{ identity: identity ?? '', keyIds }] : [];
    });
    if (lacking.length) throw new PayloadKeyNotAnnounced(codec.encryptingKeyId, this.taskQueue, lacking);
    this.passedAt = this.now();
  }
}
