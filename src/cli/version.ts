import fs from 'node:fs';
import path from 'node:path';

/**
 * Tollgate's version, from its package.json: two folders up from src/cli in a checkout, three up
 * from dist/src/cli when compiled.
 */
export function tollgateVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, up, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'tollgate' && manifest.version) return manifest.version;
    } catch {
      // not this folder
    }
  }
  return 'unknown';
}
