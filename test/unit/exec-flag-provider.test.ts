import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ProviderContext } from '../../src/providers/context';
import { ExecFlagProvider } from '../../src/providers/flags/exec';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-exec-flags-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ctx: ProviderContext = {
  facts: {
    releaseId: 'checkout:production:2.4.0',
    service: 'checkout',
    environment: 'production',
    version: '2.4.0',
    initiator: 'alice',
    attempt: 1,
  },
  stepId: 'checkout:production:2.4.0/step-1',
  signal: new AbortController().signal,
  log: pino({ level: 'silent' }),
  fence: { laneId: 'lane:checkout:production', token: 7_000_001 },
};

/** A flag service of files: state.json holds the flag; every write records the fence it carried. */
const provider = new ExecFlagProvider({
  provider: 'exec',
  read: 'cat state.json',
  set: `printf '{"flag":"%s","percentage":%s,"segment":"%s"}' "$TOLLGATE_FLAG" "$TOLLGATE_FLAG_PERCENTAGE" "$TOLLGATE_FLAG_SEGMENT" > state.json; echo "$TOLLGATE_FENCE" >> fences.log`,
  restore: `printf '%s' "$TOLLGATE_FLAG_STATE" > state.json; echo "$TOLLGATE_FENCE" >> fences.log`,
  workingDirectory: dir,
  timeout: '10s',
});

describe('the exec flag provider', () => {
  it('reads the flag, sets it with the fence, and restores exactly what it read', async () => {
    fs.writeFileSync(path.join(dir, 'state.json'), '{"flag":"new-checkout","percentage":10,"owner":"growth"}');
    const before = await provider.read(ctx, 'new-checkout');
    expect(before).toEqual({ flag: 'new-checkout', state: { flag: 'new-checkout', percentage: 10, owner: 'growth' } });

    await provider.set(ctx, { flag: 'new-checkout', percentage: 50, segment: 'internal-users', stickiness: 'default' });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'))).toEqual({
      flag: 'new-checkout',
      percentage: 50,
      segment: 'internal-users',
    });

    await provider.restore(ctx, before);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'))).toEqual(before.state);
    expect(fs.readFileSync(path.join(dir, 'fences.log'), 'utf8').trim().split('\n')).toEqual(['7000001', '7000001']);
  });

  it('says what is wrong when read prints something other than JSON', async () => {
    fs.writeFileSync(path.join(dir, 'state.json'), 'on for 10%');
    await expect(provider.read(ctx, 'new-checkout')).rejects.toThrow(
      /flags.read "cat state.json" must print flag new-checkout's state as JSON .* it printed: on for 10%/,
    );
  });
});
