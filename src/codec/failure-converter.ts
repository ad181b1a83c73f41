import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failures whose message and stack trace travel as a payload (`encodedAttributes`) instead of in
 * clear: a failed step's message carries its command line, the tail of its stderr and paths on the
 * worker's host. The payload goes through the payload codecs, so with TOLLGATE_PAYLOAD_KEYS it is
 * encrypted like every other payload; without keys it is plain JSON, readable as before.
 *
 * Loaded by path (the SDK's `failureConverterPath`): by the worker and client when keys are
 * configured, and always by the workflow bundle, whose failures (a release that rolled back fails
 * its workflow with the reason) are made inside the sandbox. Reading accepts both forms, so
 * histories written before stay readable and replayable.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
