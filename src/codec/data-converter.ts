import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { EncryptionCodec } from './encryption-codec';
import { parsePayloadKeys } from './payload-keys';

/** The data converter every worker and client uses: encrypted payloads when keys are configured. */
export function dataConverterFor(config: Pick<Config, 'TOLLGATE_PAYLOAD_KEYS'>): DataConverter | undefined {
  if (!config.TOLLGATE_PAYLOAD_KEYS) return undefined;
  return { payloadCodecs: [new EncryptionCodec(parsePayloadKeys(config.TOLLGATE_PAYLOAD_KEYS))] };
}
