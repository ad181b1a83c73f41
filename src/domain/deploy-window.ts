/**
 * Recurring deploy windows: "mon-fri 09:00-16:00 Europe/Berlin". Outside every window a lane holds
 * new releases and running ones at their next step boundary. Pure functions of (window, instant)
 * so the workflow can compute when to wake up and sleep on a durable timer until then.
 */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface DeployWindow {
  days: Weekday[];
  /** Local wall-clock "HH:MM" in `timezone`. */
  start: string;
  end: string;
  /** IANA time zone, such as Europe/Berlin. */
  timezone: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Parses "mon-fri 09:00-16:00 Europe/Berlin" (the time zone defaults to UTC; days may be
 * "mon,wed,fri"). An end before the start crosses midnight: "mon-thu 22:00-06:00" opens on the
 * evenings of those days and closes the next morning.
 */
export function parseDeployWindow(text: string): DeployWindow {
  const [daysPart, hoursPart, timezone = 'UTC', ...rest] = text.trim().split(/\s+/);
  const usage = 'write a window as "mon-fri 09:00-16:00 Europe/Berlin"';
  if (!daysPart || !hoursPart || rest.length > 0) throw new RangeError(`"${text}": ${usage}`);
  const days = new Set<Weekday>();
  for (const part of daysPart.toLowerCase().split(',')) {
    const [from, to = from] = part.split('-');
    const a = WEEKDAYS.indexOf(from as Weekday);
    const b = WEEKDAYS.indexOf(to as Weekday);
    if (a < 0 || b < 0)
      throw new RangeError(`"${part}" is not a day or day range; days are ${WEEKDAYS.join(', ')}; ${usage}`);
    for (let day = a; ; day = (day + 1) % 7) {
      days.add(WEEKDAYS[day]);
      if (day === b) break;
    }
  }
  const [start, end] = hoursPart.split('-');
  if (!TIME.test(start ?? '') || !TIME.test(end ?? '') || start === end) {
    throw new RangeError(
      `"${hoursPart}" is not a time range such as 09:00-16:00, or 22:00-06:00 for a night (start and end differ); ${usage}`,
    );
  }
  assertTimeZone(timezone);
  return { days: WEEKDAYS.filter((day) => days.has(day)), start, end, timezone };
}

export function formatDeployWindow(window: DeployWindow): string {
  return `${window.days.join(',')} ${window.start}-${window.end} ${window.timezone}`;
}

export function assertTimeZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new RangeError(`"${timezone}" is not an IANA time zone such as Europe/Berlin or UTC`);
  }
}

interface LocalTime {
  weekday: Weekday;
  minutes: number;
  year: number;
  month: number;
  day: number;
}

function localTime(instant: Date, timezone: string): LocalTime {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    weekday: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(instant);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return {
    weekday: get('weekday').toLowerCase().slice(0, 3) as Weekday,
    minutes: Number(get('hour')) * 60 + Number(get('minute')),
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
  };
}

function toMinutes(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

export function isInsideWindow(window: DeployWindow, instant: Date): boolean {
  const local = localTime(instant, window.timezone);
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  if (start < end) return window.days.includes(local.weekday) && local.minutes >= start && local.minutes < end;
  // Across midnight: the evening part belongs to today, the morning part to the night that began yesterday.
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(local.weekday) + 6) % 7];
  return (
    (window.days.includes(local.weekday) && local.minutes >= start) ||
    (window.days.includes(yesterday) && local.minutes < end)
  );
}

/** The UTC instant at which a local wall-clock time occurs in a time zone (DST-aware). */
function instantOf(year: number, month: number, day: number, minutes: number, timezone: string): Date {
  const wallAsUtc = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  let guess = wallAsUtc;
  for (let pass = 0; pass < 2; pass++) {
    const seen = localTime(new Date(guess), timezone);
    const seenAsUtc = Date.UTC(seen.year, seen.month - 1, seen.day, Math.floor(seen.minutes / 60), seen.minutes % 60);
    guess += wallAsUtc - seenAsUtc;
  }
  return new Date(guess);
}

/** The next moment any window opens, strictly after `instant`; undefined when there are no windows. */
export function nextWindowOpening(windows: DeployWindow[], instant: Date): Date | undefined {
  let best: Date | undefined;
  for (const window of windows) {
    for (let offset = 0; offset <= 7; offset++) {
      const probe = new Date(instant.getTime() + offset * 86_400_000);
      const local = localTime(probe, window.timezone);
      if (!window.days.includes(local.weekday)) continue;
      const opening = instantOf(local.year, local.month, local.day, toMinutes(window.start), window.timezone);
      if (opening.getTime() > instant.getTime() && (!best || opening < best)) best = opening;
    }
  }
  return best;
}
