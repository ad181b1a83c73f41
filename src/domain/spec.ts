import { z } from 'zod';
import { DURATION_PATTERN } from './duration';

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

export const DeployProvider = z.discriminatedUnion('provider', [ExecDeploy], {
  error: 'deploy.provider must be one of: exec',
});

export const ExecTraffic = z.strictObject({
  provider: z.literal('exec'),
  /** Sends `TOLLGATE_WEIGHT` percent of traffic to the new version. Idempotent. */
  setWeight: z.string().min(1),
  ...execOptions,
});

export const TrafficProvider = z.discriminatedUnion('provider', [ExecTraffic], {
  error: 'traffic.provider must be one of: exec',
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

export const AnalysisTemplate = z.discriminatedUnion('provider', [ExecAnalysis], {
  error: 'analysis provider must be one of: exec',
});

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
  })
  .superRefine((step, ctx) => {
    const kinds = Object.keys(step).filter((key) => step[key as keyof typeof step] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a step needs one of setWeight, pause, approval, analysis'
            : `a step has exactly one of setWeight, pause, approval, analysis (found ${kinds.join(', ')}); split it into ${kinds.length} steps`,
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

export const Strategy = z
  .strictObject({
    canary: CanaryStrategy.optional(),
    blueGreen: BlueGreenStrategy.optional(),
    rolling: RollingStrategy.optional(),
  })
  .superRefine((strategy, ctx) => {
    const kinds = Object.keys(strategy).filter((key) => strategy[key as keyof typeof strategy] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `choose exactly one of canary, blueGreen, rolling${kinds.length ? ` (found ${kinds.join(', ')})` : ''}`,
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

export const Notify = z.strictObject({
  slack: z.strictObject({ channel: z.string().min(1) }).optional(),
});

export const ReleaseSpec = z
  .strictObject({
    service: Name,
    environment: Name,
    version: Version,
    commit: Commit.optional(),
    deploy: DeployProvider,
    traffic: TrafficProvider,
    strategy: Strategy,
    analysis: z.record(Name, AnalysisTemplate).default({}),
    approvals: Approvals.default({ timeout: '24h', onTimeout: 'rollback' }),
    execution: Execution.default({ attempts: 3, heartbeatTimeout: '30s', stepTimeout: '30m', rollbackTimeout: '1h' }),
    notify: Notify.optional(),
  })
  .superRefine((spec, ctx) => {
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

function analysisReferences(strategy: Strategy): { path: (string | number)[]; templates: string[] }[] {
  const refs: { path: (string | number)[]; templates: string[] }[] = [];
  strategy.canary?.steps.forEach((step, index) => {
    if (step.analysis) refs.push({ path: ['strategy', 'canary', 'steps', index, 'analysis'], templates: step.analysis.templates });
  });
  if (strategy.blueGreen?.prePromotionAnalysis) {
    refs.push({
      path: ['strategy', 'blueGreen', 'prePromotionAnalysis'],
      templates: strategy.blueGreen.prePromotionAnalysis.templates,
    });
  }
  if (strategy.rolling?.analysis) {
    refs.push({ path: ['strategy', 'rolling', 'analysis'], templates: strategy.rolling.analysis.templates });
  }
  return refs;
}
