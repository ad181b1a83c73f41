import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startChildDaemon, waitForDaemon } from './child-daemon';
import { freePort } from './free-port';
import { ensureDatabase } from './postgres';

/** Unleash OSS has these two environments; a frontend token serves one of them. */
export const UNLEASH_ENVIRONMENTS = ['development', 'production'] as const;

/** API tokens of a local Unleash: Tollgate writes with the admin one, clients evaluate with a frontend one. */
export interface UnleashTokens {
  admin: string;
  /** One frontend (evaluation) token per Unleash environment. */
  frontend: Record<(typeof UNLEASH_ENVIRONMENTS)[number], string>;
}

export interface LocalUnleash {
  url: string;
  tokens: UnleashTokens;
  pid?: number;
  /** In its command line, for recognising a leftover later. */
  marker: string;
  stop(): Promise<void>;
}

export interface UnleashOptions {
  /** Superuser URL of a PostgreSQL server; Unleash gets a database of its own on it. */
  postgresUrl: string;
  /** The database's name: the same one keeps flags across runs (`tollgate dev`). */
  database?: string;
  /** Keep the tokens here so the same ones work on the next start (Unleash creates them only in an empty database). */
  tokensFile?: string;
  port?: number;
  /** A string put in its command line, to recognise it later; one naming the database when not given. */
  marker?: string;
  /** How often Unleash's frontend (evaluation) API picks up flag changes. */
  frontendRefreshMs?: number;
  log?: (line: string) => void;
}

/**
 * A real Unleash server (the unleash-server package, run by this Node in a child process), on
 * loopback, with its own database on the given PostgreSQL. It starts with an admin token for
 * Tollgate and a frontend token per environment for evaluating flags; it sends no telemetry and
 * checks no version online.
 */
export async function startUnleash(options: UnleashOptions): Promise<LocalUnleash> {
  const database = options.database ?? `unleash_${crypto.randomBytes(5).toString('hex')}`;
  const databaseUrl = await ensureDatabase(options.postgresUrl, database);
  const tokens = readOrMakeTokens(options.tokensFile);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const marker = options.marker ?? `tollgate-unleash:${database}`;
  const entry = pathToFileURL(require.resolve('unleash-server')).href;
  // The package is an ES module: import it, then start it on loopback.
  const script =
    `import(${JSON.stringify(entry)}).then((unleash) => unleash.start({ server: { host: '127.0.0.1', port: ${port} } }))` +
    `.catch((err) => { console.error(err); process.exit(1); });`;
  options.log?.(`starting Unleash on ${url}`);
  const daemon = startChildDaemon(process.execPath, ['-e', script, marker], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      DATABASE_SSL: 'false',
      INIT_ADMIN_API_TOKENS: tokens.admin,
      INIT_FRONTEND_API_TOKENS: Object.values(tokens.frontend).join(','),
      FRONTEND_API_REFRESH_INTERVAL_MS: String(options.frontendRefreshMs ?? 250),
      LOG_LEVEL: 'warn',
      SEND_TELEMETRY: 'false',
      CHECK_VERSION: 'false',
    },
  });
  await waitForDaemon(daemon, 'Unleash', async () => (await fetch(`${url}/health`)).ok, 180_000);
  return { url, tokens, pid: daemon.process.pid, marker, stop: () => daemon.stop() };
}

function readOrMakeTokens(file: string | undefined): UnleashTokens {
  if (file && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as UnleashTokens;
  const secret = () => crypto.randomBytes(16).toString('hex');
  const tokens: UnleashTokens = {
    admin: `*:*.${secret()}`,
    frontend: { development: `default:development.${secret()}`, production: `default:production.${secret()}` },
  };
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
  }
  return tokens;
}
