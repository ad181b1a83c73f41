import { WebClient, LogLevel } from '@slack/web-api';
import type { Config } from '../config';

/**
 * Slack's Web API client for workers and the app. One quick retry only: the notify activity and
 * Temporal retry on their own schedule, and a listener must answer people promptly.
 */
export function createSlackWebClient(config: Pick<Config, 'SLACK_BOT_TOKEN' | 'SLACK_API_URL'>): WebClient | undefined {
  if (!config.SLACK_BOT_TOKEN) return undefined;
  return new WebClient(config.SLACK_BOT_TOKEN, {
    slackApiUrl: config.SLACK_API_URL,
    retryConfig: { retries: 1, minTimeout: 200, maxTimeout: 1000 },
    logLevel: LogLevel.ERROR,
  });
}
