import crypto from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, UnknownPayloadKey } from '../../src/codec/encryption-codec';
import { parsePayloadKeys } from '../../src/codec/payload-keys';
import { required } from '../../src/domain/required';

const key = (id: string) => `${id}:${crypto.randomBytes(32).toString('base64')}`;

describe('payload encryption', () => {
  const spec = { service: 'checkout', deploy: { deploy: './deploy.sh --token env:DEPLOY_TOKEN' } };

  it('leaves no clear text in the encoded payload and gives the original back', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(key('k1')));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(spec)]);
    expect(Buffer.from(required(encoded.data, 'encoded data')).toString('latin1')).not.toContain('checkout');
    expect(Buffer.from(required(encoded.metadata, 'metadata')['encryption-key-id']).toString()).toBe('k1');
    const [decoded] = await codec.decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(spec);
  });

  it('still reads payloads of a rotated-out key while encrypting with the new one', async () => {
    const [oldKey, newKey] = [key('2026-01'), key('2026-11')];
    const before = await new EncryptionCodec(parsePayloadKeys(oldKey)).encode([
      defaultPayloadConverter.toPayload(spec),
    ]);
    const rotated = new EncryptionCodec(parsePayloadKeys(`${newKey},${oldKey}`));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode(before))[0])).toEqual(spec);
    const [after] = await rotated.encode([defaultPayloadConverter.toPayload(spec)]);
    expect(Buffer.from(required(after.metadata, 'metadata')['encryption-key-id']).toString()).toBe('2026-11');
  });

  it('refuses a payload whose key is gone, naming the key', async () => {
    const encoded = await new EncryptionCodec(parsePayloadKeys(key('lost'))).encode([
      defaultPayloadConverter.toPayload(spec),
    ]);
    await expect(new EncryptionCodec(parsePayloadKeys(key('other'))).decode(encoded)).rejects.toThrow(
      UnknownPayloadKey,
    );
    await expect(new EncryptionCodec(parsePayloadKeys(key('other'))).decode(encoded)).rejects.toThrow(/key "lost"/);
  });

  it('detects a payload altered in storage', async () => {
    const codec = new EncryptionCodec(parsePayloadKeys(key('k1')));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(spec)]);
    const data = Buffer.from(required(encoded.data, 'encoded data'));
    data[20] ^= 0xff;
    await expect(codec.decode([{ ...encoded, data }])).rejects.toThrow(/auth/i);
  });

  it('passes payloads that were never encrypted through untouched', async () => {
    const plain = defaultPayloadConverter.toPayload({ hello: 'world' });
    expect(await new EncryptionCodec(parsePayloadKeys(key('k1'))).decode([plain])).toEqual([plain]);
  });

  it('explains a badly written key setting', () => {
    expect(() => parsePayloadKeys('k1:c2hvcnQ=')).toThrow(
      /"k1" is 5 bytes; AES-256 needs 32 \(make one with `openssl rand -base64 32`\)/,
    );
    expect(() => parsePayloadKeys('nokey')).toThrow(/write id:base64key/);
    expect(() => parsePayloadKeys(`${key('a').replace(/^a/, 'same')},${key('b').replace(/^b/, 'same')}`)).toThrow(
      /same key id twice/,
    );
  });
});
