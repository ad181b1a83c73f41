import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Fields pino blanks out wherever they appear: a log line must never carry a credential, even
 * when an error object or a config dump is logged whole.
 */
export const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.DATABASE_URL',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  '*.TEMPORAL_API_KEY',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LoggerOptions {
  /**
   * Lines for people (pino-pretty: time, level, message, fields) instead of JSON: for a terminal.
   * Loaded only then. JSON otherwise, for log collectors and pipes.
   */
  pretty?: boolean;
}

export function createLogger(level = 'info', name = 'tollgate', options: LoggerOptions = {}): Logger {
  const settings = { name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (!options.pretty) return pino(settings);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a terminal
  const pretty = require('pino-pretty') as typeof PinoPretty;
  return pino(
    settings,
    pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name,sdk', sync: true }),
  );
}
