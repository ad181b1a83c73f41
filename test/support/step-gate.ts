import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReleaseSpecInput } from '../../src/domain/spec';
import { eventually } from './eventually';

/**
 * An analysis template that holds a release at a step until the test lets it go, so a test can
 * read the real router's state at each weight without sampling against the clock. The template's
 * command (run by the real exec provider) marks that it waits at the release's current weight,
 * then waits until the test opens that weight.
 */
export class StepGate {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-gate-'));

  /** The analysis template; use it in an analysis step after each setWeight to be observed. */
  template(): NonNullable<ReleaseSpecInput['analysis']>[string] {
    const dir = JSON.stringify(this.dir);
    return {
      provider: 'exec',
      command: `touch ${dir}/waiting-$TOLLGATE_WEIGHT; while [ ! -e ${dir}/open-$TOLLGATE_WEIGHT ]; do sleep 0.05; done`,
      timeout: '30m',
      interval: '1s',
    };
  }

  /** Resolves once the release holds at `weight` (its setWeight done, the gate's analysis running). */
  async heldAt(weight: number): Promise<void> {
    await eventually(`the release held at ${weight}%`, () =>
      fs.existsSync(path.join(this.dir, `waiting-${weight}`)) ? true : undefined,
    );
  }

  open(weight: number): void {
    fs.writeFileSync(path.join(this.dir, `open-${weight}`), '');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
