import fs from 'node:fs';
import { z } from 'zod';
import { Duration } from './domain/spec';
import { ConfigError } from './domain/errors';

/**
 * Tollgate's process configuration, from the environment only (12-factor), validated once at
 * start-up. Each problem is reported with the variable's name and an example of a good value.
 */
const HostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, { error: 'must be host:port, e.g. 127.0.0.1:7233 or my-ns.a1b2c.tmprl.cloud:7233' });

const PostgresUrl = z.string().regex(/^postgres(ql)?:\/\/.+/, {
  error: 'must be a postgres:// URL, e.g. postgres://tollgate@127.0.0.1:5432/tollgate',
});

const ReadableFile = z.string().refine((file) => fs.existsSync(file), { error: 'names a file that does not exist' });

const Flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

export const ConfigSchema = z.object({
  TEMPORAL_ADDRESS: HostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TOLLGATE_TASK_QUEUE: z.string().min(1).default('tollgate'),
  /** mTLS client certificate and key (self-hosted clusters, Temporal Cloud with certificates). */
  TEMPORAL_TLS_CERT: ReadableFile.optional(),
  TEMPORAL_TLS_KEY: ReadableFile.optional(),
  /** Temporal Cloud API key; implies TLS. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: Flag.optional(),
  /** Where people open a release in the Temporal UI (links in Slack and the CLI). */
  TEMPORAL_UI_URL: z.url({ error: 'must be a URL, e.g. http://localhost:8233' }).optional(),
  /** Tollgate's own database: audit log and delivery metrics. */
  DATABASE_URL: PostgresUrl.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** A workflow bundle built ahead (`tollgate bundle`), so a worker starts without bundling. */
  TOLLGATE_WORKFLOW_BUNDLE: ReadableFile.optional(),
  /**
   * Workflows a worker keeps in memory between their tasks (about 0.5 MiB each, measured by
   * bench:orchestration); the rest are replayed from history when they next wake.
   */
  TOLLGATE_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ error: 'must be a whole number, e.g. 500' })
    .int()
    .min(2)
    .default(500),
  /**
   * Encrypt every payload written into Temporal: `id:base64key[,id:base64key...]`, the first key
   * encrypting, all decrypting (rotation). Every worker and client of a namespace needs the same keys.
   */
  TOLLGATE_PAYLOAD_KEYS: z.string().min(1).optional(),
  /** Where a worker serves the Temporal SDK's metrics for Prometheus, e.g. 0.0.0.0:9464. */
  TOLLGATE_SDK_METRICS_ADDRESS: HostPort.optional(),
  /** An OpenTelemetry collector (the standard variable): traces of releases go there when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ error: 'must be a URL, e.g. http://otel-collector:4318' }).optional(),
  /** Slack (docs/slack.md): the bot token for the Web API, the signing secret that proves requests come from Slack. */
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, { error: 'must be a bot token (xoxb-...) from OAuth & Permissions' })
    .optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  /** Socket Mode, for teams without a public URL: an app-level token (xapp-...) with connections:write. */
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, { error: 'must be an app-level token (xapp-...) from Basic Information' })
    .optional(),
  SLACK_SOCKET_MODE: Flag.optional(),
  /** Slack's Web API base URL; only tests and proxies change it. */
  SLACK_API_URL: z.url({ error: 'must be a URL, e.g. https://slack.com/api/' }).optional(),
  /** Folder of <service>/<environment>.yaml specs that Slack and CI may start. */
  TOLLGATE_SPEC_CATALOGUE: z.string().min(1).optional(),
  /** Who may release where, e.g. "production=group:release-managers,U012AB;staging=*" (everyone everywhere when unset). */
  TOLLGATE_RELEASERS: z.string().min(1).optional(),
  /** CI tokens: name:token:service/environment[,service/environment] separated by spaces (docs/ci.md). */
  TOLLGATE_API_TOKENS: z.string().min(1).optional(),
  /** Who may read decrypted payloads through the codec endpoint: bearer tokens separated by commas. */
  TOLLGATE_CODEC_TOKENS: z.string().min(1).optional(),
  /** The app's HTTP port: Slack requests, the CI trigger, /metrics, /healthz, /codec. */
  TOLLGATE_APP_PORT: z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535).default(3000),
  /**
   * How people prove who they are (docs/security.md): `oidc` (the default once an issuer or the
   * app's assertion key is set) or `none`, local mode, identities on trust and never for production.
   */
  TOLLGATE_AUTH: z.enum(['oidc', 'none'], { error: 'must be oidc or none' }).optional(),
  /** The organisation's OpenID Connect issuer, e.g. https://login.example.com/realms/acme. */
  TOLLGATE_OIDC_ISSUER: z.url({ error: 'must be the issuer URL, e.g. https://login.example.com' }).optional(),
  /** The client id of Tollgate's CLI at the issuer (a public client allowed the device flow). */
  TOLLGATE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Audiences accepted in people's tokens, separated by commas (default: the client id). */
  TOLLGATE_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The claim that names a person, the same in every channel. */
  TOLLGATE_IDENTITY_CLAIM: z.string().min(1).default('email'),
  /** The claim that lists a person's groups, for approvals from group:NAME. */
  TOLLGATE_GROUPS_CLAIM: z.string().min(1).default('groups'),
  /** Tollgate's app key (at least 32 characters): the app signs who decided in Slack or the HTTP API, the worker checks it. */
  TOLLGATE_ASSERTION_KEY: z
    .string()
    .min(32, { error: 'must be at least 32 random characters (openssl rand -hex 32)' })
    .optional(),
  /** How long a stopping worker lets running activities finish. */
  TOLLGATE_SHUTDOWN_GRACE: Duration.default('30s'),
});

export type Config = z.infer<typeof ConfigSchema>;
type Requirable = 'DATABASE_URL';

const EXAMPLES: Record<Requirable, string> = {
  DATABASE_URL:
    "required: the PostgreSQL that holds Tollgate's audit log, e.g. postgres://tollgate@127.0.0.1:5432/tollgate",
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env, required: Requirable[] = []): Config {
  // An empty variable is a variable not set: `FOO= tollgate worker` should not mean the empty string.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = ConfigSchema.safeParse(present);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  for (const name of required) {
    if (!present[name] && !problems.some((problem) => problem.path === name)) {
      problems.push({ path: name, message: EXAMPLES[name] });
    }
  }
  if (result.success && Boolean(result.data.TEMPORAL_TLS_CERT) !== Boolean(result.data.TEMPORAL_TLS_KEY)) {
    problems.push({
      path: 'TEMPORAL_TLS_CERT',
      message: 'set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (client certificate and its key)',
    });
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}
