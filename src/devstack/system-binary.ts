import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TollgateError } from '../domain/errors';

const execFileAsync = promisify(execFile);

export interface SystemBinary {
  /** What it is called on PATH: haproxy, prometheus. */
  binary: string;
  /** The Debian/Ubuntu package that installs it. */
  aptPackage: string;
  /** A variable that may point at the binary instead: TOLLGATE_HAPROXY. */
  envVariable: string;
}

export const HAPROXY: SystemBinary = { binary: 'haproxy', aptPackage: 'haproxy', envVariable: 'TOLLGATE_HAPROXY' };
export const PROMETHEUS: SystemBinary = {
  binary: 'prometheus',
  aptPackage: 'prometheus',
  envVariable: 'TOLLGATE_PROMETHEUS',
};

/** Where system daemons live besides PATH (a non-root PATH often lacks /usr/sbin). */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function findBinary(wanted: SystemBinary): string | undefined {
  const explicit = process.env[wanted.envVariable];
  if (explicit) {
    if (fs.existsSync(explicit)) return explicit;
    throw new TollgateError(
      'BINARY_MISSING',
      `${wanted.envVariable}=${explicit} does not exist; unset it or point it at the ${wanted.binary} binary`,
    );
  }
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...EXTRA_DIRS]) {
    const candidate = path.join(dir, wanted.binary);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds a system binary the local stack needs, installing its package with apt-get when it is
 * missing and we may (root, on a Debian-like system). Otherwise says exactly how to install it.
 */
export async function findOrInstallBinary(
  wanted: SystemBinary,
  log: (line: string) => void = () => {},
): Promise<string> {
  const found = findBinary(wanted);
  if (found) return found;
  const apt = ['/usr/bin/apt-get', '/bin/apt-get'].find((candidate) => fs.existsSync(candidate));
  const isRoot = process.getuid?.() === 0;
  if (!apt || !isRoot) {
    throw new TollgateError(
      'BINARY_MISSING',
      `${wanted.binary} is not installed and Tollgate cannot install it here (${apt ? 'not running as root' : 'no apt-get'}); ` +
        `install it (Debian/Ubuntu: sudo apt-get install -y ${wanted.aptPackage}) or set ${wanted.envVariable} to its path, then run again`,
    );
  }
  log(`installing ${wanted.aptPackage} with apt-get (once)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileAsync(apt, ['install', '-y', '--no-install-recommends', wanted.aptPackage], { env, timeout: 10 * 60_000 });
  try {
    await install();
  } catch {
    // A fresh machine has no package lists yet.
    await execFileAsync(apt, ['update'], { env, timeout: 10 * 60_000 }).catch(() => undefined);
    try {
      await install();
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      throw new TollgateError(
        'BINARY_MISSING',
        `apt-get install ${wanted.aptPackage} failed: ${stderr.split('\n').slice(-3).join(' ')}`,
      );
    }
  }
  const installed = findBinary(wanted);
  if (!installed)
    throw new TollgateError(
      'BINARY_MISSING',
      `apt-get installed ${wanted.aptPackage} but ${wanted.binary} is still not found`,
    );
  return installed;
}
