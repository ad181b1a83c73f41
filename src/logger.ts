import pino, { type Logger } from 'pino';

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

export function createLogger(level = 'info', name = 'tollgate'): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
