import { startHaproxy, type LocalHaproxy } from '../../src/devstack/haproxy';
import { freePort } from '../../src/devstack/free-port';

/**
 * The demo's and the tests' HAProxy takes its frontend ports for itself. HAProxy binds with
 * SO_REUSEPORT by default, so a second one given the same port would start too and the kernel
 * would split users between the two: part of a test's load would reach another test's backends.
 */
describe('a local HAProxy', () => {
  const started: LocalHaproxy[] = [];
  afterAll(async () => {
    for (const haproxy of started) await haproxy.stop();
  });

  it('does not share a frontend port with another HAProxy, and starts on other ports instead', async () => {
    const first = await startHaproxy({ services: [{ name: 'first' }] });
    started.push(first);
    const taken = Number(new URL(first.frontends.first).port);

    // The second is handed the first one's port, as a race between two free-port checks would.
    let handedOut = 0;
    const second = await startHaproxy({
      services: [{ name: 'second' }],
      ports: async () => (handedOut++ === 0 ? taken : freePort()),
    });
    started.push(second);

    expect(handedOut).toBeGreaterThan(1);
    expect(Number(new URL(second.frontends.second).port)).not.toBe(taken);
  });
});
