import { z } from 'zod';
import { DURATION_PATTERN } from './duration';
import { strategyApprovers } from './strategy-approvers';
import { updatesInPlace } from './in-place';
import { QUERY_FACTS, unknownPlaceholders } from './query-template';

/**
 * The release spec: one YAML file per service and environment, kept in the service's repository.
 * Every type Tollgate uses for a spec is inferred from the schemas below; the CLI, the Slack app,
 * the workflows and the published JSON Schema (schema/release-spec.schema.json) all come from here.
 *
 * Step names follow Argo Rollouts on purpose (setWeight, pause, analysis) so users feel at home.
 */

/** Service and environment names end up in workflow ids, search attributes and Slack commands. */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
/** Secrets are never written in a spec: a spec names the worker's environment variable that holds them. */
export const SECRET_REF_PATTERN = /^env:[A-Za-z_][A-Za-z0-9_]*$/;

/** A message for a value of the wrong type that still says "required" when the value is missing. */
export function expected(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : what);
}

/** "30s", "5m", "24h": kept as written, turned into milliseconds by toMillis in duration.ts. */
export const Duration = z
  .string({ error: expected('must be a duration such as "30s", "5m" or "24h"') })
  .regex(DURATION_PATTERN, { error: 'must be a duration such as "30s", "5m" or "24h" (units: ms, s, m, h, d)' });

export const Name = z
  .string({ error: expected('must be a name such as "checkout"') })
  .regex(NAME_PATTERN, { error: 'must be lower-case letters, digits and dashes, such as "checkout" or "eu-west"' });

export const Version = z
  .string({ error: expected('must be a version such as "2.4.0" (quote it in YAML if it looks like a number)') })
  .regex(VERSION_PATTERN, {
    error: 'must be a version such as "2.4.0", "v2.4.0-rc.1" or an image tag (letters, digits, ".", "_", "+", "-")',
  });

export const SecretRef = z
  .string()
  .regex(SECRET_REF_PATTERN, { error: 'must name an environment variable of the worker, written env:NAME' });

export const Commit = z.strictObject({
  sha: z.string().regex(/^[0-9a-f]{7,40}$/, { error: 'must be a git commit sha (7 to 40 lower-case hex digits)' }),
  committedAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 time such as 2026-11-20T10:00:00Z' }),
  message: z.string().max(500).optional(),
});

/** Who did something: the initiator of a release, an approver, whoever pressed pause. */
export const Actor = z.strictObject({
  /** A stable identity: a Slack user id (U012ABC), a CI token's name, or a login for the CLI. */
  id: z.string().min(1).max(128),
  /** A display name for people; never used for authorisation. */
  name: z.string().max(128).optional(),
  /** Groups the caller vouches for (the Slack app resolves user groups through Slack's API). */
  groups: z.array(z.string().min(1)).max(100).optional(),
  via: z.enum(['cli', 'slack', 'ci', 'api', 'tollgate']).default('cli'),
  /**
   * How the id was established: `verified` from a proof the worker checked (an ID token, or the
   * app's signed assertion), `none` taken on trust in local mode (TOLLGATE_AUTH=none).
   */
  trust: z.enum(['verified', 'none']).optional(),
  /** The identity provider that vouched for this person, and its stable id for them (the audit log keeps both). */
  issuer: z.string().max(256).optional(),
  subject: z.string().max(256).optional(),
  /** Other ids the same person is known by (a Slack user id), so approver lists naming them still match. */
  aliases: z.array(z.string().min(1).max(128)).max(10).optional(),
});

/** Options every `exec` provider shares. Commands run on the worker's host through `sh -c`. */
const execOptions = {
  /** Where the commands run; the CLI fills in the spec file's folder when it is not given. */
  workingDirectory: z.string().min(1).optional(),
  /** Extra environment for the commands: literal values, or env:NAME to pass the worker's secret through. */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  /** A command still running after this is killed and the step fails. */
  timeout: Duration.default('5m'),
};

export const ExecDeploy = z.strictObject({
  provider: z.literal('exec'),
  /** Starts `TOLLGATE_VERSION` beside the stable version. Must be idempotent: it may run twice. */
  deploy: z.string().min(1),
  /** Stops `TOLLGATE_VERSION`. Used to retire the old version and to roll back the new one. Idempotent. */
  undeploy: z.string().min(1),
  ...execOptions,
});

/** A port range written "20000-20999"; instances of a version take free ports from it. */
export const PortRange = z
  .string()
  .regex(/^\d{2,5}-\d{2,5}$/, { error: 'must be a port range such as "20000-20999"' })
  .refine(
    (range) => {
      const [from, to] = range.split('-').map(Number);
      return from >= 1024 && to <= 65535 && from <= to;
    },
    { error: 'must be a range within 1024-65535 whose first port is not above its last, such as "20000-20999"' },
  );

/**
 * Starts each version as N supervised processes on this worker's host (or, through a launcher such
 * as ssh, on a VM), waits for every instance's readiness probe, and stops them on retire or rollback.
 */
export const ProcessDeploy = z.strictObject({
  provider: z.literal('process'),
  /**
   * Starts one instance, through `sh -c`. PORT, TOLLGATE_VERSION and TOLLGATE_INSTANCE are set, and
   * {{port}}, {{version}}, {{instance}} are replaced, so "ssh app@vm1 /srv/app --port {{port}}" works too.
   */
  command: z.string().min(1),
  instances: z.int().min(1).max(64).default(1),
  /** Where the instances listen, as seen from the worker and the router. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Ports to take from; any free port on loopback when not given (required for a remote host). */
  ports: PortRange.optional(),
  readiness: z
    .strictObject({
      /** An HTTP GET on every instance that must answer 2xx before it may take traffic. */
      path: z.string().startsWith('/', { error: 'must be a path such as /healthz' }).default('/healthz'),
      /** A version not ready within this fails its deploy step, and the release rolls back. */
      timeout: Duration.default('60s'),
      interval: Duration.default('250ms'),
    })
    .default({ path: '/healthz', timeout: '60s', interval: '250ms' }),
  /** After SIGTERM, how long an instance may finish its requests before SIGKILL. */
  stopTimeout: Duration.default('10s'),
  /** Where instance records (pid, port) live, so any worker on this host can stop them. */
  stateDirectory: z.string().min(1).optional(),
  /** Writes Prometheus file_sd target files here, labelled service and version, so new instances are scraped. */
  prometheusTargets: z.string().min(1).optional(),
  workingDirectory: execOptions.workingDirectory,
  env: execOptions.env,
});

/** DNS-1123 labels: Kubernetes namespaces and Service names. */
const KubernetesName = z
  .string({ error: expected('must be a Kubernetes name such as "shop"') })
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    error: 'must be a Kubernetes name: lower-case letters, digits and dashes, at most 63 characters',
  });

/**
 * Which cluster a Kubernetes provider talks to, the Kubernetes way: a kubeconfig context per
 * environment, or the worker pod's own service account. Nothing secret is written here: the
 * kubeconfig file lives on the worker.
 */
export const KubernetesCluster = z.strictObject({
  /** A kubeconfig file on the worker; without it, the worker's KUBECONFIG, then ~/.kube/config, then the in-cluster service account. */
  kubeconfig: z.string().min(1).optional(),
  /** The kubeconfig context of this environment; the file's current context when not given. */
  context: z.string().min(1).optional(),
  /** Use the worker pod's service account (and ignore any kubeconfig). */
  inCluster: z.boolean().default(false),
});

/** A container of the pod template: only what Tollgate needs is checked, the API server validates the rest. */
const KubernetesContainer = z.looseObject({
  name: KubernetesName,
  image: z.string().min(1),
});

/** A Deployment's spec.template; {{version}} in any string is replaced by the version being deployed. */
export const KubernetesPodTemplate = z.looseObject({
  metadata: z
    .looseObject({
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  spec: z.looseObject({
    containers: z.array(KubernetesContainer).min(1, { error: 'a pod template needs at least one container' }),
  }),
});

/**
 * Each version as its own Deployment, named <service>-<version> and labelled
 * app.kubernetes.io/name, app.kubernetes.io/version, app.kubernetes.io/managed-by=tollgate and
 * tollgate.io/release; ready when the Deployment's status says so, failed when Kubernetes reports
 * ProgressDeadlineExceeded; deleted on rollback and when the release retires the old version.
 */
export const KubernetesDeploy = z.strictObject({
  provider: z.literal('kubernetes'),
  cluster: KubernetesCluster.default({ inCluster: false }),
  namespace: KubernetesName,
  /**
   * Update this one Deployment in place, with Kubernetes' Recreate or RollingUpdate strategy
   * (strategy.recreate, strategy.rolling), instead of running each version as its own Deployment.
   */
  deployment: KubernetesName.optional(),
  replicas: z.int().min(1).max(1000).default(1),
  template: KubernetesPodTemplate,
  /**
   * A Service per version (same name as its Deployment) selecting only that version's pods, for
   * routes that send to each version by name (traffic.provider: gateway-api).
   */
  service: z
    .strictObject({
      ports: z
        .array(
          z.strictObject({
            name: KubernetesName.optional(),
            port: z.int().min(1).max(65535),
            targetPort: z.union([z.int().min(1).max(65535), z.string().min(1)]).optional(),
          }),
        )
        .min(1),
    })
    .optional(),
  /** Kubernetes' progressDeadlineSeconds: a version that makes no progress for this long fails its deploy step. */
  progressDeadline: Duration.default('10m'),
  /** How often the Deployment's status is read while waiting for it. */
  pollInterval: Duration.default('1s'),
});

export const DeployProvider = z.discriminatedUnion('provider', [ExecDeploy, ProcessDeploy, KubernetesDeploy], {
  error: 'deploy.provider must be one of: exec, process, kubernetes',
});

export const ExecTraffic = z.strictObject({
  provider: z.literal('exec'),
  /** Sends `TOLLGATE_WEIGHT` percent of traffic to the new version. Idempotent. */
  setWeight: z.string().min(1),
  ...execOptions,
});

/**
 * HAProxy through its Runtime API: no reload, no dropped connection. The backend declares server
 * slots (`server-template slot 1-8 127.0.0.1:1 disabled`); Tollgate points free slots at the new
 * version's instances and moves weights between them and the slots serving the stable version.
 */
export const HaproxyTraffic = z.strictObject({
  provider: z.literal('haproxy'),
  /** The Runtime API: a unix socket path (/run/haproxy/admin.sock) or host:port of `stats socket ipv4@...`. */
  runtimeApi: z.string().min(1),
  backend: z.string().regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must be the name of an HAProxy backend' }),
  /** Only servers whose names start with this are managed; the others are left alone. */
  serverPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]*$/)
    .default(''),
  timeout: Duration.default('5s'),
});

/**
 * Canary weights on a Gateway API HTTPRoute: the backendRefs of one rule, split between the
 * Services of the versions (deploy.service makes one per version). Other rules, filters, matches
 * and parents are never changed.
 */
export const GatewayApiTraffic = z.strictObject({
  provider: z.literal('gateway-api'),
  cluster: KubernetesCluster.default({ inCluster: false }),
  namespace: KubernetesName,
  httpRoute: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, { error: 'must be the name of an HTTPRoute' }),
  /** The rule Tollgate manages, by its name (rules[].name); required when the route has more than one rule. */
  rule: z.string().min(1).optional(),
  /** The port of each version's Service that the route sends to. */
  port: z.int().min(1).max(65535),
});

/** Blue-green by switching a Service's selector to the new version's pods, and back on rollback. */
export const ServiceSelectorTraffic = z.strictObject({
  provider: z.literal('service-selector'),
  cluster: KubernetesCluster.default({ inCluster: false }),
  namespace: KubernetesName,
  /** The Service users reach; its selector's app.kubernetes.io/version is what switches. */
  service: KubernetesName,
});

export const TrafficProvider = z.discriminatedUnion(
  'provider',
  [ExecTraffic, HaproxyTraffic, GatewayApiTraffic, ServiceSelectorTraffic],
  { error: 'traffic.provider must be one of: exec, haproxy, gateway-api, service-selector' },
);

/** A feature flag's name as flag services spell them: "new-checkout", "checkout.v2". */
const FlagName = z
  .string({ error: expected('must be the name of a feature flag, such as "new-checkout"') })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    error: 'must be the name of a feature flag: letters, digits, ".", "_", "-" (such as "new-checkout")',
  });

/**
 * Unleash through its Admin API (docs/feature-flags.md): each setFlag step keeps one gradual-rollout
 * strategy of its own on the flag, in one Unleash environment; other strategies are left alone.
 */
export const UnleashFlags = z.strictObject({
  provider: z.literal('unleash'),
  /** The Unleash server: its URL, or env:NAME for a worker variable that holds it. */
  url: z.string().refine((value) => SECRET_REF_PATTERN.test(value) || /^https?:\/\/[^\s]+$/.test(value), {
    error: 'must be the URL of an Unleash server, such as http://unleash:4242, or env:NAME',
  }),
  /** An Admin API token (or a personal access token), always env:NAME: the worker holds it. */
  token: SecretRef,
  project: z.string().min(1).default('default'),
  /** The Unleash environment the flag changes in; the release's environment when not given. */
  environment: z.string().min(1).optional(),
  timeout: Duration.default('10s'),
});

/**
 * Flags through the user's own commands. `read` prints the flag's state (any JSON) on stdout;
 * `set` applies TOLLGATE_FLAG_*; `restore` puts back TOLLGATE_FLAG_STATE, what `read` printed.
 */
export const ExecFlags = z.strictObject({
  provider: z.literal('exec'),
  read: z.string().min(1),
  set: z.string().min(1),
  restore: z.string().min(1),
  ...execOptions,
});

export const FlagProvider = z.discriminatedUnion('provider', [UnleashFlags, ExecFlags], {
  error: 'flags.provider must be one of: unleash, exec',
});

/**
 * One feature flag change: `percentage` of users (sticky: the same users stay in as it grows) get
 * the flag, or its `variant`, within `segment` when given (internal users first, then everyone).
 */
export const SetFlagStep = z.strictObject({
  flag: FlagName,
  percentage: z
    .int({ error: expected('percentage must be a whole percentage, 0 to 100') })
    .min(0, { error: 'percentage must be between 0 and 100' })
    .max(100, { error: 'percentage must be between 0 and 100' }),
  /** The variant those users get; without it, the flag is simply on for them. */
  variant: z.string().min(1).max(100).optional(),
  /** Only users in this segment (an Unleash segment's name, such as internal-users). */
  segment: z.string().min(1).max(100).optional(),
  /** The context field that keeps a user in or out from one step to the next. */
  stickiness: z.string().min(1).default('default'),
});

const analysisCommon = {
  /** Time between two measurements. */
  interval: Duration.default('30s'),
  /** How many failed measurements are tolerated; one more fails the analysis and rolls the release back. */
  failureLimit: z.int().min(0).default(0),
  /** How many measurements without a usable value are tolerated before the release pauses for a person. */
  inconclusiveLimit: z.int().min(0).default(0),
};

export const ExecAnalysis = z.strictObject({
  provider: z.literal('exec'),
  /** Exit status 0 is a successful measurement, any other a failed one. */
  command: z.string().min(1),
  ...execOptions,
  timeout: Duration.default('1m'),
  ...analysisCommon,
});

/** A Prometheus server: its URL, or env:NAME for a worker variable that holds it. */
const PrometheusAddress = z
  .string()
  .refine((value) => SECRET_REF_PATTERN.test(value) || /^https?:\/\/[^\s]+$/.test(value), {
    error: 'must be the URL of a Prometheus server, such as http://prometheus:9090, or env:NAME',
  });

/** A PromQL query with the release's facts as {{placeholders}}; a misspelt one is refused before anything starts. */
const TemplatedQuery = (extra: string[] = []) =>
  z
    .string()
    .min(1)
    .superRefine((query, ctx) => {
      const unknown = unknownPlaceholders(query, extra);
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `{{${name}}}`).join(', ')}; a query may use ${[...QUERY_FACTS, ...extra].map((name) => `{{${name}}}`).join(', ')}`,
        });
      }
    });

/** Header values may name worker variables (env:NAME) so tokens stay out of the spec. */
const HttpHeaders = z.record(z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'must be an HTTP header name' }), z.string());

/**
 * An instant PromQL query, run every `interval`. The release's facts are templated in: {{service}},
 * {{environment}}, {{version}}, {{canaryVersion}}, {{stableVersion}}, {{releaseId}}.
 */
export const PrometheusAnalysis = z.strictObject({
  provider: z.literal('prometheus'),
  address: PrometheusAddress,
  query: TemplatedQuery(),
  /** Holds for a successful measurement: an expression over `result` (filtrex), e.g. "result < 0.01". */
  successCondition: z.string().min(1),
  /** Optional: a measurement for which this holds is failed even if successCondition holds. */
  failureCondition: z.string().min(1).optional(),
  headers: HttpHeaders.optional(),
  timeout: Duration.default('10s'),
  ...analysisCommon,
});

/** Smoke test: HTTP requests sent to every instance of the new version directly, before or while it takes traffic. */
export const HttpAnalysis = z.strictObject({
  provider: z.literal('http'),
  path: z.string().startsWith('/', { error: 'must be a path such as /healthz' }).default('/'),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
  headers: HttpHeaders.optional(),
  body: z.string().optional(),
  expect: z
    .strictObject({
      status: z.array(z.int().min(100).max(599)).min(1).default([200]),
      bodyContains: z.string().min(1).optional(),
      /** A regular expression the body must match. */
      bodyMatches: z
        .string()
        .min(1)
        .refine(
          (pattern) => {
            try {
              new RegExp(pattern);
              return true;
            } catch {
              return false;
            }
          },
          { error: 'must be a valid regular expression' },
        )
        .optional(),
    })
    .default({ status: [200] }),
  timeout: Duration.default('5s'),
  ...analysisCommon,
});

/**
 * Canary against stable, as Kayenta does: the same PromQL range query for each version ({{version}}
 * is the side measured), and a Mann-Whitney U test on the two samples. Fails when the canary is
 * worse in `direction` with the given confidence and by more than `tolerance`.
 */
export const ComparisonAnalysis = z.strictObject({
  provider: z.literal('comparison'),
  address: PrometheusAddress,
  query: TemplatedQuery(),
  /** How far back each measurement looks; one point per `step`. */
  lookback: Duration.default('30s'),
  step: Duration.default('1s'),
  /** Which change is bad: latency and errors "increase", throughput "decrease". */
  direction: z.enum(['increase', 'decrease', 'either']).default('increase'),
  /** A relative change smaller than this passes even when significant: 0.1 lets the canary be 10% worse. */
  tolerance: z.number().min(0).default(0.1),
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  /** Fewer points than this on either side is inconclusive. */
  minSamples: z.int().min(3).default(8),
  headers: HttpHeaders.optional(),
  timeout: Duration.default('10s'),
  ...analysisCommon,
});

export const AnalysisTemplate = z.discriminatedUnion(
  'provider',
  [ExecAnalysis, PrometheusAnalysis, HttpAnalysis, ComparisonAnalysis],
  {
    error: 'analysis provider must be one of: exec, prometheus, http, comparison',
  },
);

export const ApprovalStep = z.strictObject({
  /** Who may approve: user ids (U012ABC, alice) or groups written group:<handle>. */
  from: z.array(z.string().min(1)).min(1, { error: 'name at least one approver or group:<handle>' }),
  /** How many different people must approve. */
  quorum: z.int().min(1).default(1),
});

export const AnalysisStep = z.strictObject({
  templates: z.array(z.string().min(1)).min(1, { error: 'name at least one analysis template' }),
  /** How long the analysis runs; without it, each template's own measurement count decides. */
  duration: Duration.optional(),
});

/** One canary step. Exactly one key, as in Argo Rollouts: `- setWeight: 10`. */
export const CanaryStep = z
  .strictObject({
    setWeight: z
      .int({ error: expected('setWeight must be a whole percentage, 0 to 100') })
      .min(0, { error: 'setWeight must be between 0 and 100' })
      .max(100, { error: 'setWeight must be between 0 and 100' })
      .optional(),
    pause: z.strictObject({ duration: Duration.optional() }).optional(),
    approval: ApprovalStep.optional(),
    analysis: AnalysisStep.optional(),
    setFlag: SetFlagStep.optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = Object.keys(step).filter((key) => step[key as keyof typeof step] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a step needs one of setWeight, pause, approval, analysis, setFlag'
            : `a step has exactly one of setWeight, pause, approval, analysis, setFlag (found ${kinds.join(', ')}); split it into ${kinds.length} steps`,
      });
    }
  });

export const CanaryStrategy = z.strictObject({
  steps: z.array(CanaryStep).min(1, { error: 'a canary needs at least one step' }),
  /** Watched at 100% before the old version is retired and the schema contracted. */
  bake: Duration.optional(),
});

export const BlueGreenStrategy = z.strictObject({
  /** Run against green before any user traffic reaches it. */
  prePromotionAnalysis: AnalysisStep.optional(),
  /** A person approves the switch. */
  approval: ApprovalStep.optional(),
  /** Run after the switch, while blue is still warm: a failure switches straight back. */
  postPromotionAnalysis: AnalysisStep.optional(),
  /** Blue stays warm this long after the switch, so rolling back is one switch back. */
  bake: Duration.optional(),
});

export const RollingStrategy = z.strictObject({
  /** Instances of the service; the new version replaces them in batches. */
  replicas: z.int().min(1),
  /** How many new instances start per batch. */
  maxSurge: z.int().min(1).default(1),
  /** How many old instances may be down at once. */
  maxUnavailable: z.int().min(0).default(0),
  /** Checked after every batch. */
  analysis: AnalysisStep.optional(),
  bake: Duration.optional(),
});

/**
 * All of the old version stops, then the new one starts: for services that cannot run two versions
 * at once. Kubernetes' Recreate strategy on the one Deployment the spec names (deploy.deployment).
 */
export const RecreateStrategy = z.strictObject({
  /** Run once the new version is up. */
  analysis: AnalysisStep.optional(),
  bake: Duration.optional(),
});

export const Strategy = z
  .strictObject({
    canary: CanaryStrategy.optional(),
    blueGreen: BlueGreenStrategy.optional(),
    rolling: RollingStrategy.optional(),
    recreate: RecreateStrategy.optional(),
  })
  .superRefine((strategy, ctx) => {
    const kinds = Object.keys(strategy).filter((key) => strategy[key as keyof typeof strategy] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `choose exactly one of canary, blueGreen, rolling, recreate${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`,
      });
    }
  });

export const Approvals = z.strictObject({
  /** The initiator may not approve their own release. Defaults to on for environments named prod*. */
  fourEyes: z.boolean().optional(),
  /** How long an approval step waits for a decision. */
  timeout: Duration.default('24h'),
  /** `rollback` undoes the release; `fail` stops it where it stands for a person to decide. */
  onTimeout: z.enum(['rollback', 'fail']).default('rollback'),
});

export const Execution = z.strictObject({
  /** A failing step is tried this many times before the release rolls back. */
  attempts: z.int().min(1).max(20).default(3),
  /** How soon a step on a dead worker is noticed and retried on another. */
  heartbeatTimeout: Duration.default('30s'),
  /** A step still running after this is stopped and counts as a failed attempt. */
  stepTimeout: Duration.default('30m'),
  /** How long a compensation is retried before the release is marked Failed and a person is paged. */
  rollbackTimeout: Duration.default('1h'),
});

/**
 * The error budget gate, after the SRE book: burn rate = error ratio over `window` / (1 - objective).
 * Above `maxBurnRate` a release does not start, and a running one holds at its next step, until the
 * burn rate falls again or a person promotes past the hold.
 */
export const ErrorBudget = z.strictObject({
  provider: z.literal('prometheus').default('prometheus'),
  address: PrometheusAddress,
  /** The service's error ratio (errors / requests) over {{window}}; the release's facts are templated in. */
  errorRatioQuery: TemplatedQuery(['window']),
  /** The availability objective, such as 0.999. */
  objective: z.number().gt(0).lt(1),
  window: Duration.default('1h'),
  maxBurnRate: z.number().positive().default(1),
  /** How often a held release looks again. */
  checkEvery: Duration.default('1m'),
  headers: HttpHeaders.optional(),
  timeout: Duration.default('10s'),
});

/**
 * The service's own PostgreSQL and its phase-tagged knex migrations (docs/schema-changes.md):
 * expand before the new version gets traffic, backfill, and contract only after 100%, the bake and
 * an approval.
 */
export const Database = z.strictObject({
  /** The worker's environment variable holding the database URL, written env:NAME; never the URL itself. */
  url: SecretRef,
  /** The service's knex migrations folder, relative to the spec file. */
  migrations: z.string().min(1),
  /** knex's migration table in that database (the one `knex migrate` uses). */
  migrationsTable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a table name such as knex_migrations' })
    .default('knex_migrations'),
  /** DDL gives up a lock it cannot get within this, and Tollgate tries again: the application never queues behind it for longer. */
  lockTimeout: Duration.default('2s'),
  /** How long a migration keeps retrying while its table is too busy, before the release rolls back. */
  busyRetryFor: Duration.default('10m'),
  /** A rollback before contract keeps the expanded schema (the old version runs on it), or reverts it with the migrations' down. */
  onRollback: z.enum(['keep', 'revert']).default('keep'),
  /** Who approves the contract, the point of no return. Defaults to the approvers of the strategy's approval steps. */
  contractApproval: ApprovalStep.optional(),
});

/**
 * Post-deploy verification: smoke checks run against the new version right after it takes all
 * traffic (through the same route users take). Any check that still fails after its attempts rolls
 * the release back, and the outcome names the check. In a pipeline, it decides promotion.
 */
export const HttpSmokeCheck = z.strictObject({
  /** Where to send the request; {{service}}, {{environment}}, {{version}} and {{releaseId}} are filled in. */
  url: z
    .string({ error: expected('must be a URL such as http://checkout.staging/healthz') })
    .regex(/^https?:\/\/\S+$/, { error: 'must be an http:// or https:// URL such as http://checkout.staging/healthz' }),
  method: HttpAnalysis.shape.method,
  headers: HttpHeaders.optional(),
  body: z.string().optional(),
  expect: HttpAnalysis.shape.expect,
  timeout: Duration.default('10s'),
});

export const ExecSmokeCheck = z.strictObject({
  /** Exit status 0 passes; TOLLGATE_VERSION and the release's other facts are set. */
  command: z.string().min(1),
  ...execOptions,
  timeout: Duration.default('1m'),
});

/** One smoke check: a name people read in the outcome, and exactly one of http, exec. */
export const SmokeCheck = z
  .strictObject({
    name: Name,
    http: HttpSmokeCheck.optional(),
    exec: ExecSmokeCheck.optional(),
  })
  .superRefine((check, ctx) => {
    const kinds = (['http', 'exec'] as const).filter((kind) => check[kind] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `a smoke check has exactly one of http, exec${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`,
      });
  });

export const Verification = z
  .strictObject({
    checks: z.array(SmokeCheck).min(1, { error: 'name at least one smoke check' }),
    /** A check is tried this many times (a version may still be warming up) before it fails. */
    attempts: z.int().min(1).max(20).default(3),
    /** Time between two attempts of a check. */
    interval: Duration.default('2s'),
  })
  .superRefine((verification, ctx) => {
    const seen = new Set<string>();
    verification.checks.forEach((check, index) => {
      if (seen.has(check.name))
        ctx.addIssue({
          code: 'custom',
          path: ['checks', index, 'name'],
          message: `"${check.name}" names two checks; give each its own name`,
        });
      seen.add(check.name);
    });
  });

export const Notify = z.strictObject({
  slack: z.strictObject({ channel: z.string().min(1) }).optional(),
});

export const ReleaseSpec = z
  .strictObject({
    service: Name,
    environment: Name,
    /**
     * A production environment: decisions on it need a verified identity, so local mode
     * (TOLLGATE_AUTH=none) is refused for it. Four-eyes also applies unless `approvals` says otherwise.
     */
    production: z.boolean().optional(),
    version: Version,
    commit: Commit.optional(),
    deploy: DeployProvider,
    /** Required, but for a Deployment updated in place (deploy.deployment), whose Service follows its pods. */
    traffic: TrafficProvider.optional(),
    strategy: Strategy,
    analysis: z.record(Name, AnalysisTemplate).default({}),
    approvals: Approvals.default({ timeout: '24h', onTimeout: 'rollback' }),
    execution: Execution.default({ attempts: 3, heartbeatTimeout: '30s', stepTimeout: '30m', rollbackTimeout: '1h' }),
    notify: Notify.optional(),
    errorBudget: ErrorBudget.optional(),
    database: Database.optional(),
    verification: Verification.optional(),
    /** Where setFlag steps change feature flags (docs/feature-flags.md). */
    flags: FlagProvider.optional(),
  })
  .superRefine((spec, ctx) => {
    for (const problem of flagProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
    // Contract is the point of no return: someone must be able to approve it.
    if (spec.database && !spec.database.contractApproval && strategyApprovers(spec.strategy).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'contractApproval'],
        message:
          'contracting the schema needs an approval and the strategy has no approval step to borrow approvers from; add contractApproval: { from: [U012ABC] }',
      });
    }
    for (const problem of kubernetesProblems(spec)) ctx.addIssue({ code: 'custom', ...problem });
    // Every analysis a step names must be defined under `analysis:`.
    const defined = new Set(Object.keys(spec.analysis));
    for (const { path, templates } of analysisReferences(spec.strategy)) {
      templates.forEach((name, index) => {
        if (!defined.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'templates', index],
            message: `analysis template "${name}" is not defined; add it under analysis: (defined: ${[...defined].join(', ') || 'none'})`,
          });
        }
      });
    }
  });

export type ReleaseSpec = z.infer<typeof ReleaseSpec>;
export type ReleaseSpecInput = z.input<typeof ReleaseSpec>;
export type Actor = z.infer<typeof Actor>;
export type Commit = z.infer<typeof Commit>;
export type CanaryStep = z.infer<typeof CanaryStep>;
export type ApprovalStep = z.infer<typeof ApprovalStep>;
export type AnalysisStep = z.infer<typeof AnalysisStep>;
export type AnalysisTemplate = z.infer<typeof AnalysisTemplate>;
export type DeployProvider = z.infer<typeof DeployProvider>;
export type TrafficProvider = z.infer<typeof TrafficProvider>;
export type Strategy = z.infer<typeof Strategy>;
export type ErrorBudget = z.infer<typeof ErrorBudget>;
export type ProcessDeploy = z.infer<typeof ProcessDeploy>;
export type KubernetesCluster = z.infer<typeof KubernetesCluster>;
export type KubernetesDeploy = z.infer<typeof KubernetesDeploy>;
export type RecreateStrategy = z.infer<typeof RecreateStrategy>;
export type RollingStrategy = z.infer<typeof RollingStrategy>;
export type GatewayApiTraffic = z.infer<typeof GatewayApiTraffic>;
export type ServiceSelectorTraffic = z.infer<typeof ServiceSelectorTraffic>;
export type HaproxyTraffic = z.infer<typeof HaproxyTraffic>;
export type PrometheusAnalysis = z.infer<typeof PrometheusAnalysis>;
export type HttpAnalysis = z.infer<typeof HttpAnalysis>;
export type ComparisonAnalysis = z.infer<typeof ComparisonAnalysis>;
export type Database = z.infer<typeof Database>;
export type SmokeCheck = z.infer<typeof SmokeCheck>;
export type Verification = z.infer<typeof Verification>;
export type FlagProvider = z.infer<typeof FlagProvider>;
export type SetFlagStep = z.infer<typeof SetFlagStep>;

/** setFlag steps need a flag provider to change flags with. */
function flagProblems(spec: {
  flags?: FlagProvider;
  strategy: Strategy;
}): { path: (string | number)[]; message: string }[] {
  if (spec.flags) return [];
  return (spec.strategy.canary?.steps ?? []).flatMap((step, index) =>
    step.setFlag
      ? [
          {
            path: ['strategy', 'canary', 'steps', index, 'setFlag'],
            message:
              'a setFlag step needs a flag service: add flags: { provider: unleash, url: ..., token: env:UNLEASH_TOKEN } (or provider: exec)',
          },
        ]
      : [],
  );
}

/** Kubernetes traffic routes to pods the kubernetes deployer labelled and (for routes) gave a Service. */
function kubernetesProblems(spec: {
  deploy: DeployProvider;
  traffic?: TrafficProvider;
  strategy: Strategy;
}): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const { deploy, traffic, strategy } = spec;
  const inPlace = updatesInPlace(deploy);
  if (inPlace) {
    if (!strategy.recreate && !strategy.rolling)
      problems.push({
        path: ['strategy'],
        message: `deploy.deployment updates one Deployment in place: use strategy.recreate or strategy.rolling (or drop deploy.deployment to run each version as its own Deployment)`,
      });
    if (traffic)
      problems.push({
        path: ['traffic'],
        message: 'a Deployment updated in place has no traffic to split (its Service follows its pods); remove traffic',
      });
    if (strategy.rolling && strategy.rolling.replicas !== deploy.replicas)
      problems.push({
        path: ['strategy', 'rolling', 'replicas'],
        message: `must be the Deployment's replicas (deploy.replicas: ${deploy.replicas})`,
      });
    return problems;
  }
  if (strategy.recreate)
    problems.push({
      path: ['strategy', 'recreate'],
      message:
        'recreate replaces one Deployment in place: use deploy.provider: kubernetes with deploy.deployment: <name>',
    });
  if (!traffic) {
    problems.push({
      path: ['traffic'],
      message:
        'required: how traffic moves to the new version (provider: exec, haproxy, gateway-api, service-selector)',
    });
    return problems;
  }
  if (traffic.provider === 'gateway-api' || traffic.provider === 'service-selector') {
    if (deploy.provider !== 'kubernetes') {
      problems.push({
        path: ['deploy', 'provider'],
        message: `traffic.provider ${traffic.provider} routes to the pods of Deployments Tollgate made; use deploy.provider: kubernetes`,
      });
    } else if (deploy.namespace !== traffic.namespace) {
      problems.push({
        path: ['traffic', 'namespace'],
        message: `must be the namespace the versions are deployed to (deploy.namespace: ${deploy.namespace})`,
      });
    }
  }
  if (traffic.provider === 'gateway-api' && deploy.provider === 'kubernetes' && !deploy.service) {
    problems.push({
      path: ['deploy', 'service'],
      message:
        'an HTTPRoute sends to Services: add deploy.service: { ports: [{ port: 80, targetPort: 8080 }] } so each version gets one',
    });
  }
  if (traffic.provider === 'service-selector' && !spec.strategy.blueGreen) {
    problems.push({
      path: ['traffic', 'provider'],
      message:
        'a Service selector moves all traffic at once: use it with strategy.blueGreen, or gateway-api for canary weights',
    });
  }
  return problems;
}

function analysisReferences(strategy: Strategy): { path: (string | number)[]; templates: string[] }[] {
  const refs: { path: (string | number)[]; templates: string[] }[] = [];
  strategy.canary?.steps.forEach((step, index) => {
    if (step.analysis)
      refs.push({ path: ['strategy', 'canary', 'steps', index, 'analysis'], templates: step.analysis.templates });
  });
  if (strategy.blueGreen?.prePromotionAnalysis) {
    refs.push({
      path: ['strategy', 'blueGreen', 'prePromotionAnalysis'],
      templates: strategy.blueGreen.prePromotionAnalysis.templates,
    });
  }
  if (strategy.blueGreen?.postPromotionAnalysis) {
    refs.push({
      path: ['strategy', 'blueGreen', 'postPromotionAnalysis'],
      templates: strategy.blueGreen.postPromotionAnalysis.templates,
    });
  }
  if (strategy.recreate?.analysis) {
    refs.push({ path: ['strategy', 'recreate', 'analysis'], templates: strategy.recreate.analysis.templates });
  }
  if (strategy.rolling?.analysis) {
    refs.push({ path: ['strategy', 'rolling', 'analysis'], templates: strategy.rolling.analysis.templates });
  }
  return refs;
}
