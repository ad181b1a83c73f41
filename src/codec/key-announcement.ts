import os from 'node:os';
import type { DataConverter, LoadedDataConverter } from '@temporalio/common';
import type { EncryptionCodec } from './encryption-codec';

/**
 * Workers say which payload keys they hold in their Temporal identity, the string every poller
 * shows in `describeTaskQueue` (and the CLI's `temporal task-queue describe`):
 * `1234@host payload-keys=k2,k1`, or `payload-keys=none`. Key ids are not secret; the keys are.
 * A client reads it before it encrypts, so it never writes what no worker can read.
 */
const MARKER = 'payload-keys=';

/** The encryption codec of a data converter, if it has one. */
export function encryptionCodecOf(
  converter: Pick<DataConverter, 'payloadCodecs'> | Pick<LoadedDataConverter, 'payloadCodecs'> | undefined,
): EncryptionCodec | undefined {
  // By shape, not instanceof: a process may load this module twice (jest does).
  return converter?.payloadCodecs?.find((codec): codec is EncryptionCodec => 'encryptingKeyId' in codec);
}

/** The identity a worker polls with: the SDK's default `pid@host`, and the key ids it can decrypt. */
export function workerIdentity(converter: DataConverter | undefined): string {
  const ids = encryptionCodecOf(converter)?.keyIds ?? [];
  return `${process.pid}@${os.hostname()} ${MARKER}${ids.length ? ids.join(',') : 'none'}`;
}

/** The key ids a poller's identity announces, or undefined for a worker that does not announce any. */
export function announcedKeyIds(identity: string): string[] | undefined {
  const announced = identity.split(' ').find((part) => part.startsWith(MARKER));
  if (announced === undefined) return undefined;
  const ids = announced.slice(MARKER.length);
  return ids === 'none' ? [] : ids.split(',');
}
