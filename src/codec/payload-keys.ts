import { TollgateError } from '../domain/errors';

/** One AES-256 key and the id written beside every payload it encrypts, so keys can rotate. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

const KEY_BYTES = 32;
const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses TOLLGATE_PAYLOAD_KEYS: `id:base64key[,id:base64key...]`. The first key encrypts new
 * payloads; every key decrypts, so a rotation is: put the new key first, keep the old ones until
 * no history that needs them is retained. Generate a key with `openssl rand -base64 32`.
 */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const keys = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const separator = entry.indexOf(':');
      const id = entry.slice(0, separator);
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      if (separator < 1 || !ID_PATTERN.test(id)) {
        throw new TollgateError(
          'CONFIG_INVALID',
          `TOLLGATE_PAYLOAD_KEYS entry ${index + 1}: write id:base64key, the id made of letters, digits, . _ -`,
        );
      }
      if (key.length !== KEY_BYTES) {
        throw new TollgateError(
          'CONFIG_INVALID',
          `TOLLGATE_PAYLOAD_KEYS key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES} (make one with \`openssl rand -base64 32\`)`,
        );
      }
      return { id, key };
    });
  if (keys.length === 0)
    throw new TollgateError('CONFIG_INVALID', 'TOLLGATE_PAYLOAD_KEYS is empty; give at least one id:base64key');
  if (new Set(keys.map((key) => key.id)).size !== keys.length) {
    throw new TollgateError('CONFIG_INVALID', 'TOLLGATE_PAYLOAD_KEYS has the same key id twice');
  }
  return keys;
}
