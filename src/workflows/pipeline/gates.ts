import { condition } from '@temporalio/workflow';
import { formatDeployWindow, isInsideWindow, nextWindowOpening } from '../../domain/deploy-window';
import { toMillis } from '../../domain/duration';
import type { PipelineOutcome } from '../../domain/pipeline';
import type { PipelineRun } from './state';

/** Why a run stops before an environment. */
export interface RunStop {
  outcome: PipelineOutcome;
  reason: string;
  supersededBy?: string;
}

/** A newer commit's run, or a person's abort: either stops the run before its next environment. */
export function stopAsked(run: PipelineRun): RunStop | undefined {
  const { supersededBy, abort } = run.asked;
  if (supersededBy)
    return { outcome: 'Superseded', reason: `superseded by ${supersededBy.sha}`, supersededBy: supersededBy.sha };
  if (abort) return { outcome: 'Failed', reason: `aborted by ${abort.actor}: ${abort.reason}` };
  return undefined;
}

/**
 * The gate in front of environment `index`, after the automatic one (the previous environment
 * Succeeded, verified): the soak, the deploy windows, then a person's approval, each a durable
 * wait that a supersession or an abort cuts short. Resolves to why the run stops, or undefined to enter.
 */
export async function passGate(run: PipelineRun, index: number): Promise<RunStop | undefined> {
  const { gate, environment } = run.input.stages[index];
  const previous = index > 0 ? run.input.stages[index - 1].environment : undefined;
  if (gate.soak) {
    run.enter(index, 'gated', `soaking ${gate.soak} after ${previous} before ${environment}`, `soak of ${gate.soak}`);
    const stop = await waitOrStop(run, toMillis(gate.soak), `soak ${gate.soak} before ${environment}`);
    if (stop) return stop;
  }
  for (;;) {
    const now = new Date();
    if (gate.windows.length === 0 || gate.windows.some((window) => isInsideWindow(window, now))) break;
    const opens = nextWindowOpening(gate.windows, now);
    const windows = gate.windows.map(formatDeployWindow).join('; ');
    run.enter(index, 'gated', `outside ${environment}'s deploy windows (${windows})`, `deploy window ${windows}`);
    const stop = await waitOrStop(
      run,
      opens ? Math.max(1000, opens.getTime() - now.getTime()) : undefined,
      `window ${windows}`,
    );
    if (stop) return stop;
  }
  if (gate.approval) {
    const stop = await awaitPromotion(run, index);
    if (stop) return stop;
  }
  return stopAsked(run);
}

/** A person approves the promotion, through the same approve and reject updates as a release step. */
async function awaitPromotion(run: PipelineRun, index: number): Promise<RunStop | undefined> {
  const { gate, environment, spec } = run.input.stages[index];
  const approval = gate.approval;
  if (!approval) return undefined;
  const label = `promote to ${environment}`;
  const timeoutMs = toMillis(spec.approvals.timeout);
  run.enter(index, 'gated', `awaiting approval to enter ${environment}`, `approval from ${approval.from.join(', ')}`);
  run.setPendingApproval({
    stepIndex: index,
    label,
    from: approval.from,
    quorum: approval.quorum,
    approvals: [],
    deadline: new Date(Date.now() + timeoutMs).toISOString(),
  });
  const decided = await condition(
    () =>
      run.asked.rejection !== undefined ||
      stopAsked(run) !== undefined ||
      (run.status.pendingApproval?.approvals.length ?? 0) >= approval.quorum,
    timeoutMs,
    { summary: `await ${label}` },
  );
  run.setPendingApproval(undefined);
  const { rejection } = run.asked;
  if (rejection) return { outcome: 'Rejected', reason: `${label} rejected by ${rejection.actor}: ${rejection.reason}` };
  if (!decided) return { outcome: 'Rejected', reason: `no decision on "${label}" within ${spec.approvals.timeout}` };
  return stopAsked(run);
}

/** A durable wait that ends early when the run is superseded or aborted. */
async function waitOrStop(run: PipelineRun, ms: number | undefined, summary: string): Promise<RunStop | undefined> {
  const asked = () => stopAsked(run) !== undefined;
  if (ms === undefined) await condition(asked);
  else await condition(asked, ms, { summary });
  return stopAsked(run);
}
