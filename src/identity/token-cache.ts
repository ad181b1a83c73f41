import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `tollgate login` keeps: the ID token that proves who you are, and the refresh token that renews it. */
export interface CachedTokens {
  issuer: string;
  clientId: string;
  idToken: string;
  refreshToken?: string;
  /** When the ID token expires, in seconds since the epoch. */
  expiresAt: number;
}

/** Where the CLI keeps its tokens: TOLLGATE_CONFIG_DIR, else $XDG_CONFIG_HOME/tollgate, else ~/.config/tollgate. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TOLLGATE_CONFIG_DIR ?? path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'tollgate');
}

function tokenFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'tokens.json');
}

/** The tokens for this issuer and client, if `tollgate login` left some. */
export function readTokens(issuer: string, clientId: string, env = process.env): CachedTokens | undefined {
  let cached: CachedTokens;
  try {
    cached = JSON.parse(fs.readFileSync(tokenFile(env), 'utf8')) as CachedTokens;
  } catch {
    return undefined;
  }
  return cached.issuer === issuer && cached.clientId === clientId ? cached : undefined;
}

/**
 * Written readable by its owner only (0600, in a 0700 folder): the tokens act for you until they
 * expire. Written whole or not at all.
 */
export function writeTokens(tokens: CachedTokens, env = process.env): void {
  const file = tokenFile(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(tokens), { mode: 0o600 });
  fs.chmodSync(partial, 0o600);
  fs.renameSync(partial, file);
}

/** Forgets the tokens; true when there were some. */
export function removeTokens(env = process.env): boolean {
  const file = tokenFile(env);
  const existed = fs.existsSync(file);
  fs.rmSync(file, { force: true });
  return existed;
}
