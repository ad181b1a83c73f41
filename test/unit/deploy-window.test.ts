import { isInsideWindow, nextWindowOpening, parseDeployWindow } from '../../src/domain/deploy-window';
import { laneGate } from '../../src/domain/lane-policy';

describe('deploy windows', () => {
  const weekdays = parseDeployWindow('mon-fri 09:00-16:00 Europe/Berlin');

  it('reads the way people write them', () => {
    expect(weekdays).toEqual({
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '09:00',
      end: '16:00',
      timezone: 'Europe/Berlin',
    });
    expect(parseDeployWindow('sat,sun 10:00-12:00').days).toEqual(['sun', 'sat']);
    expect(parseDeployWindow('fri-mon 22:00-23:00 UTC').days).toEqual(['sun', 'mon', 'fri', 'sat']);
  });

  it('refuses what it cannot read, saying how to write it', () => {
    expect(() => parseDeployWindow('weekdays 9-5')).toThrow(/"weekdays" is not a day or day range/);
    expect(() => parseDeployWindow('mon 16:00-16:00')).toThrow(/start and end differ/);
    expect(() => parseDeployWindow('mon 9:00-16:00')).toThrow(/not a time range such as 09:00-16:00/);
    expect(() => parseDeployWindow('mon 09:00-16:00 Mars/Olympus')).toThrow(/not an IANA time zone/);
  });

  it('opens a night window on its days and keeps it open past midnight until the end', () => {
    const nights = parseDeployWindow('mon-thu 22:00-06:00 Europe/Berlin');
    expect(nights).toEqual({
      days: ['mon', 'tue', 'wed', 'thu'],
      start: '22:00',
      end: '06:00',
      timezone: 'Europe/Berlin',
    });
    // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
    expect(isInsideWindow(nights, new Date('2026-11-23T20:59:00Z'))).toBe(false); // Mon 21:59
    expect(isInsideWindow(nights, new Date('2026-11-23T21:00:00Z'))).toBe(true); // Mon 22:00
    expect(isInsideWindow(nights, new Date('2026-11-24T04:59:00Z'))).toBe(true); // Tue 05:59, Monday's night
    expect(isInsideWindow(nights, new Date('2026-11-24T05:00:00Z'))).toBe(false); // Tue 06:00
    expect(isInsideWindow(nights, new Date('2026-11-27T04:00:00Z'))).toBe(true); // Fri 05:00, Thursday's night
    expect(isInsideWindow(nights, new Date('2026-11-27T21:30:00Z'))).toBe(false); // Fri 22:30: no Friday night
    expect(isInsideWindow(nights, new Date('2026-11-23T03:00:00Z'))).toBe(false); // Mon 04:00: no Sunday night
    expect(nextWindowOpening([nights], new Date('2026-11-27T21:30:00Z'))).toEqual(new Date('2026-11-30T21:00:00Z'));
    expect(laneGate({ windows: [nights] }, new Date('2026-11-24T04:00:00Z'))).toEqual({ open: true });
  });

  it('knows local time in the window time zone, across daylight saving time', () => {
    // Monday 2026-11-23 08:30 UTC is 09:30 in Berlin (CET, UTC+1): inside.
    expect(isInsideWindow(weekdays, new Date('2026-11-23T08:30:00Z'))).toBe(true);
    // Monday 2026-07-06 07:30 UTC is 09:30 in Berlin (CEST, UTC+2): inside; 06:30 UTC is 08:30: outside.
    expect(isInsideWindow(weekdays, new Date('2026-07-06T07:30:00Z'))).toBe(true);
    expect(isInsideWindow(weekdays, new Date('2026-07-06T06:30:00Z'))).toBe(false);
    // Saturday: outside.
    expect(isInsideWindow(weekdays, new Date('2026-11-21T10:00:00Z'))).toBe(false);
  });

  it('finds the next opening, over a weekend and a daylight saving change', () => {
    // Friday 2026-11-20 17:00 Berlin → Monday 09:00 Berlin = 08:00 UTC.
    expect(nextWindowOpening([weekdays], new Date('2026-11-20T16:00:00Z'))?.toISOString()).toBe(
      '2026-11-23T08:00:00.000Z',
    );
    // Saturday 2026-03-28 → Monday 2026-03-30 09:00 CEST (clocks went forward on Sunday) = 07:00 UTC.
    expect(nextWindowOpening([weekdays], new Date('2026-03-28T12:00:00Z'))?.toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });

  it('closes the gate outside every window and says when it reopens', () => {
    const gate = laneGate({ windows: [weekdays] }, new Date('2026-11-21T10:00:00Z'));
    expect(gate).toEqual({
      open: false,
      reason:
        'outside deploy windows (mon,tue,wed,thu,fri 09:00-16:00 Europe/Berlin); next opens 2026-11-23T08:00:00.000Z',
      reopensAt: '2026-11-23T08:00:00.000Z',
    });
    expect(laneGate({ windows: [weekdays] }, new Date('2026-11-23T10:00:00Z'))).toEqual({ open: true });
  });

  it('lets a freeze win over a window, and lifts a timed freeze by itself', () => {
    const freeze = { reason: 'incident', by: 'sre', at: '2026-11-23T09:00:00Z', until: '2026-11-23T12:00:00Z' };
    expect(laneGate({ freeze, windows: [weekdays] }, new Date('2026-11-23T10:00:00Z'))).toMatchObject({
      open: false,
      reason: 'lane frozen by sre: incident (until 2026-11-23T12:00:00Z)',
      reopensAt: '2026-11-23T12:00:00Z',
    });
    expect(laneGate({ freeze, windows: [weekdays] }, new Date('2026-11-23T12:00:01Z'))).toEqual({ open: true });
  });
});
