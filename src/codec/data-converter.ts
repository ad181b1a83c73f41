import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { EncryptionCodec } from './encryption-codec';
import { parsePayloadKeys } from './payload-keys';

/** Where the failure converter is, for the SDK, which loads it by path (see failure-converter.ts). */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter every worker and client uses: when keys are configured, encrypted payloads,
 * and failure messages and stack traces encoded as payloads so they are encrypted too.
 */
export function dataConverterFor(config: Pick<Config, 'TOLLGATE_PAYLOAD_KEYS'>): DataConverter | undefined {
  if (!config.TOLLGATE_PAYLOAD_KEYS) return undefined;
  return {
    payloadCodecs: [new EncryptionCodec(parsePayloadKeys(config.TOLLGATE_PAYLOAD_KEYS))],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
