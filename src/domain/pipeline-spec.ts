import { z } from 'zod';
import { parseDeployWindow } from './deploy-window';
import {
  AnalysisTemplate,
  ApprovalStep,
  Approvals,
  Duration,
  Execution,
  Name,
  Notify,
  Strategy,
  Verification,
  expected,
} from './spec';

/**
 * The pipeline spec: one YAML file in the service's repository that lists its environments in
 * order (staging → production) and the gate in front of each. Every environment is released with
 * its own release spec (a file of its own, or the pipeline's shared one with overrides); the
 * version and commit come from the start request, one pipeline run per commit.
 */

/** "mon-fri 09:00-16:00 Europe/Berlin", as `tollgate windows` takes them. */
const DeployWindowText = z
  .string({ error: expected('must be a deploy window such as "mon-fri 09:00-16:00 Europe/Berlin"') })
  .superRefine((text, ctx) => {
    try {
      parseDeployWindow(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/**
 * What must hold before a run enters an environment. Every environment after the first needs the
 * one before it Succeeded, with its post-deploy verification passed (the automatic gate); these
 * add to it, checked in this order.
 */
export const PipelineGate = z.strictObject({
  /** Wait this long after the previous environment succeeded (it must stay healthy meanwhile). */
  soak: Duration.optional(),
  /** Enter only inside one of these windows; a run outside them waits for the next opening. */
  windows: z.array(DeployWindowText).min(1).optional(),
  /** A person approves the promotion, with the release approvals' rules (four-eyes in prod*, quorum). */
  approval: ApprovalStep.optional(),
});

/** Parts of the release spec an environment may replace; each replaces the whole key, it is not merged into it. */
export const ReleaseOverrides = z.strictObject({
  strategy: Strategy.optional(),
  approvals: Approvals.optional(),
  analysis: z.record(Name, AnalysisTemplate).optional(),
  verification: Verification.optional(),
  execution: Execution.optional(),
});

export const PipelineEnvironment = z.strictObject({
  name: Name,
  /** This environment's release spec file, relative to the pipeline file; the pipeline's `release` when absent. */
  release: z.string().min(1).optional(),
  overrides: ReleaseOverrides.optional(),
  gate: PipelineGate.optional(),
});

export const PipelineSpec = z
  .strictObject({
    /** The pipeline's name (runs and their supersession are per pipeline); the service's name when absent. */
    pipeline: Name.optional(),
    service: Name,
    /** The release spec file every environment uses unless it names its own. */
    release: z.string().min(1).optional(),
    environments: z.array(PipelineEnvironment).min(1, { error: 'list at least one environment, in order' }),
    notify: Notify.optional(),
  })
  .superRefine((pipeline, ctx) => {
    const seen = new Set<string>();
    pipeline.environments.forEach((environment, index) => {
      if (seen.has(environment.name))
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'name'],
          message: `"${environment.name}" is listed twice; a run goes through each environment once`,
        });
      seen.add(environment.name);
      if (!environment.release && !pipeline.release)
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'release'],
          message: `required: the release spec file for ${environment.name} (or a pipeline-wide release: ./release.yaml)`,
        });
    });
    if (pipeline.environments[0]?.gate?.soak)
      ctx.addIssue({
        code: 'custom',
        path: ['environments', 0, 'gate', 'soak'],
        message: 'the first environment has no environment before it to soak after; remove soak',
      });
  });

export type PipelineSpec = z.infer<typeof PipelineSpec>;
export type PipelineSpecInput = z.input<typeof PipelineSpec>;
export type PipelineGate = z.infer<typeof PipelineGate>;
export type ReleaseOverrides = z.infer<typeof ReleaseOverrides>;
