import fs from 'node:fs';
import path from 'node:path';

/** Where `tollgate dev` keeps its state between runs (git-ignored). */
export const STATE_DIR = '.tollgate';
const STACK_FILE = 'stack.json';

/** A server `tollgate dev` started, recorded so that a later one can stop it if this one dies. */
export interface RecordedProcess {
  name: 'postgres' | 'temporal' | 'unleash';
  pid: number;
  /** A string in the process's command line (its data folder or file), so a reused pid is never taken for it. */
  marker: string;
}

/** What a running `tollgate dev` tells the other `tollgate` commands run in its folder. */
export interface StackRecord {
  temporalAddress: string;
  databaseUrl: string;
  uiUrl?: string;
  /** The local Unleash (tollgate dev --flags). */
  unleashUrl?: string;
  /** How the stack's worker establishes who decides: `none` is local mode, whose CLI takes --as. */
  auth?: 'none' | 'oidc';
  /** The `tollgate dev` process. */
  pid?: number;
  processes?: RecordedProcess[];
}

export function stackFilePath(stateDir = STATE_DIR): string {
  return path.join(stateDir, STACK_FILE);
}

/** The local stack's record in `stateDir`, if there is one (it may be a dead stack's: check its pid). */
export function readStackFile(stateDir = STATE_DIR): StackRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(stackFilePath(stateDir), 'utf8')) as StackRecord;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all: a reader never sees half a record. */
export function writeStackFile(stateDir: string, record: StackRecord): void {
  const file = stackFilePath(stateDir);
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(record, null, 2));
  fs.renameSync(partial, file);
}

export function removeStackFile(stateDir: string): void {
  fs.rmSync(stackFilePath(stateDir), { force: true });
}
