import os from 'node:os';
import path from 'node:path';

/** Where Tollgate keeps what it downloads or builds for the local stack (the Temporal CLI). */
export function cacheDir(): string {
  return process.env.TOLLGATE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'tollgate');
}
