import { parseReleaseCommand } from '../../src/slack/command-text';
import { Releasers } from '../../src/slack/releasers';

describe('the /release command text', () => {
  it('reads the commands people type', () => {
    expect(parseReleaseCommand('')).toEqual({ kind: 'modal' });
    expect(parseReleaseCommand('checkout 2.4.0 production')).toEqual({
      kind: 'start',
      service: 'checkout',
      version: '2.4.0',
      environment: 'production',
    });
    expect(parseReleaseCommand('  checkout   v2.4.0-rc.1 ')).toEqual({
      kind: 'start',
      service: 'checkout',
      version: 'v2.4.0-rc.1',
      environment: undefined,
    });
    expect(parseReleaseCommand('status')).toEqual({ kind: 'status', service: undefined });
    expect(parseReleaseCommand('rollback checkout production')).toEqual({
      kind: 'rollback',
      service: 'checkout',
      environment: 'production',
    });
    expect(parseReleaseCommand('freeze checkout production incident 4711 in progress')).toEqual({
      kind: 'freeze',
      service: 'checkout',
      environment: 'production',
      reason: 'incident 4711 in progress',
    });
  });

  it('names what is wrong instead of guessing', () => {
    expect(parseReleaseCommand('checkout')).toMatchObject({
      kind: 'help',
      problem: '"" is not a version such as 2.4.0',
    });
    expect(parseReleaseCommand('Checkout 2.4.0')).toMatchObject({
      kind: 'help',
      problem: expect.stringMatching(/"Checkout" is not a service name/),
    });
    expect(parseReleaseCommand('checkout 2.4.0 production now')).toMatchObject({
      kind: 'help',
      problem: 'unexpected "now"',
    });
    expect(parseReleaseCommand('freeze checkout production')).toMatchObject({
      kind: 'help',
      problem: expect.stringMatching(/needs a reason/),
    });
  });
});

describe('who may release where', () => {
  const releasers = Releasers.parse('production=group:release-managers,U0SRE; staging=*');
  it('lets members of a group or named people release, and everyone where no rule is set', () => {
    expect(releasers.refusal('production', { id: 'U0X', groups: ['release-managers'] })).toBeUndefined();
    expect(releasers.refusal('production', { id: 'U0SRE', groups: [] })).toBeUndefined();
    expect(releasers.refusal('production', { id: 'U0X', groups: [] })).toBe(
      'you may not release to production; ask one of @release-managers, <@U0SRE>',
    );
    expect(releasers.refusal('staging', { id: 'U0X', groups: [] })).toBeUndefined();
    expect(releasers.refusal('qa', { id: 'U0X', groups: [] })).toBeUndefined();
  });
  it('explains a rule it cannot read', () => {
    expect(() => Releasers.parse('production')).toThrow(/should read environment=U012AB,group:release-managers/);
  });
});
