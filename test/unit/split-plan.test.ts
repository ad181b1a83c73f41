import type { RouteRequest, ServerState } from '../../src/domain/routing';
import { trafficShare } from '../../src/domain/routing';
import { commandsFor, planSplit } from '../../src/providers/traffic/split-plan';

const slot = (name: string, port: number, weight: number, state: ServerState['state']): ServerState => ({
  name,
  host: '127.0.0.1',
  port,
  weight,
  state,
});
const stableServing = [
  slot('slot1', 8001, 1, 'ready'),
  slot('slot2', 8002, 1, 'ready'),
  slot('slot3', 1, 0, 'maint'),
  slot('slot4', 1, 0, 'maint'),
];
const canary = {
  version: '2.0.0',
  endpoints: [
    { host: '127.0.0.1', port: 9001 },
    { host: '127.0.0.1', port: 9002 },
  ],
};
const request = (weight: number, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  weight,
  previousWeight: 0,
  canary,
  mode: 'weights',
  ...extra,
});
const apply = (current: ServerState[], targets: ServerState[]) =>
  current.map((server) => targets.find((target) => target.name === server.name) ?? server);

describe('splitting a backend between stable and canary', () => {
  it.each([1, 10, 25, 50, 99])('gives the canary exactly %i%% of the weight, on free slots', (weight) => {
    const plan = planSplit('haproxy', 'shop', stableServing, request(weight));
    const after = apply(stableServing, plan.targets);
    expect(trafficShare(after, (server) => plan.canaryNames.has(server.name))).toBeCloseTo(weight, 5);
    expect([...plan.canaryNames]).toEqual(['slot3', 'slot4']);
  });

  it('points new slots and weights them while out of rotation, raises before it lowers, and never leaves no server serving', () => {
    const plan = planSplit('haproxy', 'shop', stableServing, request(50));
    const commands = commandsFor('shop', stableServing, plan.targets);
    expect(commands).toEqual([
      'set server shop/slot3 addr 127.0.0.1 port 9001',
      'set server shop/slot3 weight 1',
      'set server shop/slot4 addr 127.0.0.1 port 9002',
      'set server shop/slot4 weight 1',
      'set server shop/slot3 state ready',
      'set server shop/slot4 state ready',
    ]);
  });

  it('restores exactly the routing found before the first shift when it goes back to 0', () => {
    const first = planSplit('haproxy', 'shop', stableServing, request(100));
    const atFull = apply(stableServing, first.targets);
    const back = planSplit('haproxy', 'shop', atFull, request(0, { baseline: first.baseline, previousWeight: 100 }));
    const commands = commandsFor('shop', atFull, back.targets);
    expect(apply(atFull, back.targets)).toEqual(stableServing);
    // Stable weights come back before the canary leaves rotation; addresses change only once it has left.
    expect(commands.indexOf('set server shop/slot1 weight 1')).toBeLessThan(
      commands.indexOf('set server shop/slot3 weight 0'),
    );
    expect(commands.indexOf('set server shop/slot3 state maint')).toBeLessThan(
      commands.indexOf('set server shop/slot3 addr 127.0.0.1 port 1'),
    );
  });

  it('treats canary slots enabled by an interrupted first shift as free when it is retried', () => {
    const partial = apply(stableServing, [slot('slot3', 9001, 1, 'ready')]);
    const plan = planSplit('haproxy', 'shop', partial, request(10));
    expect(plan.baseline.servers.find((server) => server.name === 'slot3')).toMatchObject({
      state: 'maint',
      weight: 0,
    });
    expect([...plan.stableNames]).toEqual(['slot1', 'slot2']);
  });

  it('moves whole servers in rolling mode', () => {
    const plan = planSplit('haproxy', 'shop', stableServing, request(50, { mode: 'servers' }));
    const weights = Object.fromEntries(plan.targets.map((target) => [target.name, target.weight]));
    expect(weights).toEqual({ slot1: 1, slot2: 0, slot3: 1, slot4: 0 });
  });

  it('says how to add slots when the backend has none free', () => {
    const full = [slot('slot1', 8001, 1, 'ready'), slot('slot2', 8002, 1, 'ready')];
    expect(() => planSplit('haproxy', 'shop', full, request(10))).toThrow(
      /backend shop has no free server slot .*\(server-template slot 1-4/,
    );
  });
});
