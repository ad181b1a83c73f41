import type http from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { openDatabase } from '../audit/database';
import { parseApiTokens } from '../ci/api-tokens';
import { RateLimiter } from '../ci/rate-limiter';
import { createReleaseApi } from '../ci/release-api';
import { ReleaseClient } from '../client/release-client';
import { createCodecHandler } from '../codec/codec-server';
import { dataConverterFor } from '../codec/data-converter';
import type { Config } from '../config';
import { createLogger } from '../logger';
import { createSlackApp } from '../slack/slack-app';
import { Releasers } from '../slack/releasers';
import { SpecCatalogue } from '../specs/catalogue';
import { createReleaseMetricsRegistry } from '../telemetry/release-metrics';
import { connectClient } from '../temporal/connection';
import { AppIdentity } from '../identity/app-identity';
import { identitySettings, LOCAL_MODE_NOTICE } from '../identity/settings';
import { createAppServer } from './app-server';
import { createDecisionApi } from './decision-api';

/** CI callers: a burst of 20, then 30 requests a minute each. */
const CI_RATE = { perMinute: 30, burst: 20 };

/**
 * The app process: Slack (HTTP or Socket Mode), the CI trigger, /metrics from the audit log, the
 * codec endpoint and /healthz. Each part starts only when configured; Temporal is connected on
 * first use, so the app answers "cannot reach Temporal" rather than failing to start.
 */
export async function runApp(config: Config): Promise<{ server: http.Server; stop(): Promise<void> }> {
  const log = createLogger(config.LOG_LEVEL, 'tollgate-app');
  const identity = new AppIdentity(identitySettings(config));
  if (identity.settings.mode === 'none') log.warn(LOCAL_MODE_NOTICE);
  let client: ReleaseClient | undefined;
  const releases = async () => {
    client ??= new ReleaseClient(await connectClient(config), config.TOLLGATE_TASK_QUEUE);
    return client;
  };
  const catalogue = config.TOLLGATE_SPEC_CATALOGUE ? new SpecCatalogue(config.TOLLGATE_SPEC_CATALOGUE) : undefined;

  const slack = config.SLACK_BOT_TOKEN
    ? createSlackApp({
        config,
        releases,
        catalogue,
        releasers: Releasers.parse(config.TOLLGATE_RELEASERS),
        log,
        identity,
      })
    : undefined;
  const tokens = parseApiTokens(config.TOLLGATE_API_TOKENS);
  const db = config.DATABASE_URL ? openDatabase(config.DATABASE_URL, { min: 0, max: 3 }) : undefined;
  const metrics = db ? createReleaseMetricsRegistry(db) : new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'tollgate_app_' });
  const codec = dataConverterFor(config)?.payloadCodecs?.[0];
  const codecTokens = (config.TOLLGATE_CODEC_TOKENS ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);

  const server = createAppServer(
    {
      slack: slack?.requestListener,
      decisionApi: identity.acceptsBearerTokens
        ? createDecisionApi({ releases, identity, ciTokens: tokens, log })
        : undefined,
      releaseApi:
        tokens.length && catalogue
          ? createReleaseApi({
              releases,
              catalogue,
              tokens,
              limiter: new RateLimiter(CI_RATE.perMinute, CI_RATE.burst),
              log,
              uiUrl: config.TEMPORAL_UI_URL,
              namespace: config.TEMPORAL_NAMESPACE,
            })
          : undefined,
      metrics,
      codec:
        codec && codecTokens.length
          ? createCodecHandler({
              codec,
              tokens: codecTokens,
              corsOrigin: config.TEMPORAL_UI_URL && new URL(config.TEMPORAL_UI_URL).origin,
            })
          : undefined,
    },
    log,
  );
  await new Promise<void>((resolve) => server.listen(config.TOLLGATE_APP_PORT, resolve));
  if (slack && !slack.requestListener) await slack.app.start();
  log.info(
    {
      port: config.TOLLGATE_APP_PORT,
      slack: slack ? (slack.requestListener ? 'http' : 'socket mode') : 'off',
      ciTrigger: tokens.length && catalogue ? 'on' : 'off (needs TOLLGATE_API_TOKENS and TOLLGATE_SPEC_CATALOGUE)',
      codec: codec && codecTokens.length ? 'on' : 'off',
    },
    'app running',
  );
  return {
    server,
    stop: async () => {
      await new Promise((resolve) => server.close(resolve));
      if (slack && !slack.requestListener) await slack.app.stop();
      await client?.client.connection.close();
      await db?.destroy();
    },
  };
}
