import fs from 'node:fs';
import path from 'node:path';
import { instanceKey, stopProcessGroup, supervisor } from './supervisor';

/** One running instance of a version, as the process deployer left it. */
export interface InstanceRecord {
  index: number;
  pid: number;
  host: string;
  port: number;
  startedAt: string;
  log: string;
}

export interface VersionRecord {
  version: string;
  instances: InstanceRecord[];
  /**
   * Ports of a stopped version, kept so that starting it again (a rollback after the old version was
   * retired) puts it back where the router's saved routing points.
   */
  ports?: number[];
}

/**
 * The process deployer's memory, one JSON file per version in a folder per service: any worker on
 * the host can find, probe and stop what another started, so a deploy retried after a worker died
 * reuses the instances it finds instead of starting twice as many.
 */
export class InstanceRecords {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  read(version: string): VersionRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(version), 'utf8')) as VersionRecord;
    } catch {
      return undefined;
    }
  }

  write(record: VersionRecord): void {
    const file = this.file(record.version);
    // Written whole and renamed, so a reader never sees half a file.
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
    fs.renameSync(`${file}.tmp`, file);
  }

  remove(version: string): void {
    fs.rmSync(this.file(version), { force: true });
  }

  /** Every version recorded here, so new instances never take a port another version holds. */
  all(): VersionRecord[] {
    return fs
      .readdirSync(this.dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => this.read(name.slice(0, -'.json'.length)))
      .filter((record): record is VersionRecord => record !== undefined);
  }

  logFile(version: string, index: number): string {
    return path.join(this.dir, `${version}-${index}.log`);
  }

  private file(version: string): string {
    return path.join(this.dir, `${version}.json`);
  }
}

/**
 * Stops every instance recorded in a folder, as an undeploy would: no longer restarted by this
 * process's supervisor (it would start a stopped one again half a second later), SIGTERM, SIGKILL
 * after `timeoutMs`. The demo's and the tests' cleanup; a release uses undeploy.
 */
export async function stopRecordedInstances(dir: string, timeoutMs = 5000): Promise<void> {
  if (!fs.existsSync(dir)) return;
  const instances = new InstanceRecords(dir)
    .all()
    .flatMap((record) => record.instances.map((instance) => ({ version: record.version, instance })));
  for (const { version, instance } of instances) supervisor.release(instanceKey(dir, version, instance.index));
  await Promise.all(instances.map(({ instance }) => stopProcessGroup(instance.pid, timeoutMs)));
}

/** SIGKILL to every instance recorded in a folder, at once: for a process that is exiting and cannot wait. */
export function killRecordedInstances(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const record of new InstanceRecords(dir).all()) {
    for (const instance of record.instances) {
      try {
        process.kill(-instance.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
