import { setHandler } from '@temporalio/workflow';
import { fourEyesApplies } from '../../domain/approval';
import { required } from '../../domain/required';
import type { Actor } from '../../domain/spec';
import { abortSignal, type ActorMessage, type ApprovalAnswer } from '../api';
import { decisionCheck, listenToApprovers, type ApprovalSituation } from '../approval-handlers';
import { howKnown, noteApproval, noteRejection } from '../decision-records';
import { withProvenSender } from '../decision-proof';
import { pipelineStatusQuery, supersededSignal } from './api';
import type { PipelineRun } from './state';

/**
 * How people and the head reach a run: its status, the promotion approvals (the release's own
 * approve and reject updates, with the same rules), an abort, and the head's word that a newer
 * commit's run superseded it. Set before the run's first await.
 */
export function listenToPeopleAndHead(run: PipelineRun): void {
  setHandler(pipelineStatusQuery, () => run.status);
  listenToApprovers({
    situation: () => situationOf(run),
    recordApproval: (approver, comment) => recordApproval(run, approver, comment),
    recordRejection: (approver, why) => recordRejection(run, approver, why),
  });
  setHandler(abortSignal, ({ actor: claimed, reason, proof }: ActorMessage) =>
    withProvenSender(
      decisionCheck(situationOf(run), 'abort', claimed, proof),
      (actor) => {
        if (run.asked.abort || run.status.outcome) return;
        run.asked.abort = { actor: actor.id, reason: reason ?? 'no reason given' };
        run.asked.changes++;
        run.emit(`abort asked by ${actor.id}: the run stops before its next environment`, undefined, actor.id);
      },
      (why) => run.emit(`abort by ${claimed.id} refused: ${why}`, undefined, claimed.id),
    ),
  );
  setHandler(supersededSignal, ({ by, pipelineId }) => {
    if (run.asked.supersededBy || run.status.outcome) return;
    run.asked.supersededBy = { sha: by, pipelineId };
    run.asked.changes++;
    run.status.supersededBy = by;
    run.emit(`superseded by commit ${by} (${pipelineId}): stops before its next environment`);
  });
}

function recordApproval(run: PipelineRun, approver: Actor, comment: string | undefined): ApprovalAnswer {
  const pending = required(run.status.pendingApproval, 'the pending approval');
  const remaining = noteApproval(pending, run.status.decisions, approver, comment);
  run.emit(
    `"${pending.label}" approved by ${approver.name ?? approver.id}${howKnown(approver)}${comment ? `: ${comment}` : ''}`,
    undefined,
    approver.id,
  );
  run.setPendingApproval(pending);
  return {
    remaining,
    message: remaining ? `approved; ${remaining} more approval(s) needed` : 'approved; the run moves on',
  };
}

function recordRejection(run: PipelineRun, approver: Actor, why: string): ApprovalAnswer {
  const pending = required(run.status.pendingApproval, 'the pending approval');
  run.asked.rejection = { actor: approver.id, reason: why };
  run.asked.changes++;
  noteRejection(pending, run.status.decisions, approver);
  run.emit(
    `"${pending.label}" rejected by ${approver.name ?? approver.id}${howKnown(approver)}: ${why}`,
    undefined,
    approver.id,
  );
  return { remaining: 0, message: 'rejected; the run stops before this environment' };
}

/**
 * What a promotion decision is judged on: the environment the pending gate leads to (its spec's
 * four-eyes and production mark), as a release's approval is (docs/security.md).
 */
function situationOf(run: PipelineRun): ApprovalSituation {
  const { input, status, asked } = run;
  const next = input.stages[status.pendingApproval?.stepIndex ?? 0];
  return {
    target: input.pipelineId,
    environment: next.environment,
    production: next.spec.production === true,
    pending: status.pendingApproval,
    currentStage: status.outcome?.outcome ?? `at ${status.current ?? 'its start'}`,
    initiator: input.initiator,
    fourEyes: fourEyesApplies(next.spec),
    rejectedBy: asked.rejection?.actor,
    lastDecision: status.decisions.at(-1),
  };
}
