import crypto from 'node:crypto';
import { bearerToken } from '../domain/bearer-token';
import { messageOf } from '../domain/failures';
import type http from 'node:http';
import type { Payload, PayloadCodec } from '@temporalio/common';

/** Payloads as the Temporal UI and CLI send them to a codec endpoint: metadata and data in base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Bearer tokens of people allowed to see decrypted payloads; required unless `allowAnyone`. */
  tokens: string[];
  /** Only for a local stack on loopback. */
  allowAnyone?: boolean;
  /** The Temporal UI's origin, for CORS (the browser calls the endpoint directly). */
  corsOrigin?: string;
}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The codec endpoint of the Temporal UI ("Codec Server"): POST /decode and /encode with
 * `{ payloads: [...] }`. It decrypts only for requests carrying a token of someone allowed to read
 * release contents; the UI forwards the user's token when "Pass access token" is on.
 */
export function createCodecHandler(options: CodecServerOptions): http.RequestListener {
  if (!options.allowAnyone && options.tokens.length === 0) {
    throw new Error('the codec endpoint needs TOLLGATE_CODEC_TOKENS (who may read decrypted payloads)');
  }
  const allowed = options.tokens.map((token) => crypto.createHash('sha256').update(token).digest());
  const authorised = (header: string | undefined) => {
    if (options.allowAnyone) return true;
    const token = bearerToken(header);
    if (!token) return false;
    const digest = crypto.createHash('sha256').update(token).digest();
    return allowed.some((candidate) => crypto.timingSafeEqual(candidate, digest));
  };

  return (req, res) => {
    if (options.corsOrigin) {
      res.setHeader('Access-Control-Allow-Origin', options.corsOrigin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const operation = req.url === '/decode' ? 'decode' : req.url === '/encode' ? 'encode' : undefined;
    if (req.method !== 'POST' || !operation) return void res.writeHead(404).end();
    if (!authorised(req.headers.authorization)) {
      return void res
        .writeHead(401, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: 'a valid bearer token is required' }));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => void answer(operation));
    async function answer(operation: 'encode' | 'decode'): Promise<void> {
      try {
        const { payloads } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payloads: JsonPayload[] };
        const result = await options.codec[operation](payloads.map(fromJson));
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ payloads: result.map(toJson) }));
      } catch (err) {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: messageOf(err) }));
      }
    }
  };
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
