import type { Client } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { TollgateError } from '../domain/errors';

/** The message UnknownPayloadKey (src/codec/encryption-codec.ts) fails a worker's workflow task with. */
const UNKNOWN_KEY = /payload encrypted with key "([^"]*)", which is not in TOLLGATE_PAYLOAD_KEYS/;

/** A workflow (a lane, a release) whose payloads no worker can decrypt: nothing in it moves. */
export class PayloadKeyUnknownToWorkers extends TollgateError {
  constructor(what: string, keyId: string, taskQueue: string) {
    super(
      'PAYLOAD_KEY_UNKNOWN',
      `${what} cannot run: it holds payloads encrypted with key "${keyId}", which the workers on task queue ${taskQueue} do not have. ` +
        `Give the workers key "${keyId}" in TOLLGATE_PAYLOAD_KEYS (after their current key) and restart them: the failing workflow tasks are retried and it carries on. ` +
        'A client that encrypted with a key no worker had wrote it; clients now refuse to',
    );
  }
}

/**
 * The key id a workflow's tasks keep failing on, when its worker cannot decrypt its payloads; else
 * undefined. Asked before a query, which would otherwise wait for a worker that can never answer.
 * Reads the last failed workflow task of the history (its failure decoded with this client's keys).
 */
export async function unknownPayloadKeyOf(client: Client, workflowId: string): Promise<string | undefined> {
  const { namespace } = client.options;
  const described = await client.workflowService
    .describeWorkflowExecution({ namespace, execution: { workflowId } })
    .catch(() => undefined); // not found and the like: the caller's own call says so
  if ((described?.pendingWorkflowTask?.attempt ?? 0) < 2) return undefined;
  const { history } = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace,
    execution: { workflowId },
    maximumPageSize: 50,
  });
  const failed = history?.events?.find((event) => event.workflowTaskFailedEventAttributes)
    ?.workflowTaskFailedEventAttributes?.failure;
  if (!failed) return undefined;
  const message = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failed)
    .then((error) => error?.message ?? '')
    .catch(() => failed.message ?? '');
  return UNKNOWN_KEY.exec(message)?.[1];
}
