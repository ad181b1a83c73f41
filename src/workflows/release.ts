import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { combineVerdicts, type TemplateResult } from '../domain/analysis';
import { actorProblem } from '../domain/actor';
import { approvalRefusal, fourEyesApplies, rejectionRefusal, strategyApprovers } from '../domain/approval';
import type { Deployment } from '../domain/deployment';
import { formatMillis, toMillis } from '../domain/duration';
import { laneGate, type LanePolicy } from '../domain/lane-policy';
import { planRelease, type PlanStep } from '../domain/plan';
import {
  describeBackfill,
  type BackfillProgress,
  type PendingMigration,
  type SchemaPlan,
} from '../domain/schema-change';
import { laneIdFor, type ReleaseInput, type ReleaseResult } from '../domain/release';
import type { RouteSnapshot } from '../domain/routing';
import type { Actor } from '../domain/spec';
import { canRollBack, isEndStage } from '../domain/stages';
import {
  abortSignal,
  approveUpdate,
  extendAnalysisSignal,
  inputQuery,
  laneGrantedSignal,
  laneUpdateSignal,
  pauseSignal,
  promoteSignal,
  rejectUpdate,
  releaseFinishedSignal,
  resumeSignal,
  rollbackUpdate,
  statusQuery,
} from './api';
import { ErrorBudgetGate } from './error-budget-gate';
import { ReleaseState, TOLLGATE_ACTOR } from './release-state';
import { Saga } from './saga';
import { RollbackRequested, StopRelease } from './stop-reasons';

/**
 * Lane bookkeeping and audit writes: quick, retried until they succeed. A short timeout, because
 * an attempt lost with a dead worker is only retried once it times out.
 */
const { joinLane, recordAudit } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Reading the migrations folder and knex's table changes nothing: a few tries, then the release stops. */
const { planSchemaChanges } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

/** A backfill reports back this often, so its progress shows in the status query, the UI and Slack. */
const BACKFILL_CHUNK_MS = 5000;

/**
 * One release: the state machine of docs/architecture.md.
 *
 *   Queued → Planning → Expanding → Backfilling → Deploying → Shifting → Baking
 *     → AwaitingContract → Contracting → Succeeded
 *   any stage before Contracting → RollingBack → RolledBack (or Failed when a compensation fails)
 */
/** The release's Slack message: a few quick attempts, then the release goes on without it. */
const { publishReleaseMessage } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumAttempts: 5 },
});

export async function releaseWorkflow(input: ReleaseInput): Promise<ReleaseResult> {
  const { spec } = input;
  const plan = planRelease(spec);
  const release = new ReleaseState(
    input,
    plan,
    (batch) => recordAudit.executeWithOptions({ summary: 'audit log' }, [batch]),
    spec.notify?.slack
      ? (request) =>
          publishReleaseMessage.executeWithOptions({ summary: `Slack message in ${request.channel}` }, [request])
      : undefined,
  );
  const laneId = laneIdFor(spec.service, spec.environment);
  const fourEyes = fourEyesApplies(spec);

  // Steps that change the world: tried `attempts` times, then the release rolls back. On abort the
  // release waits until the step has really stopped, so its compensation never races it.
  const forward = proxyActivities<Activities>({
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: toMillis(spec.execution.stepTimeout),
    heartbeatTimeout: toMillis(spec.execution.heartbeatTimeout),
    retry: {
      maximumAttempts: spec.execution.attempts,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
    },
  });
  // Compensations: retried until they succeed, for as long as the spec allows a rollback to take.
  const undo = proxyActivities<Activities>({
    startToCloseTimeout: toMillis(spec.execution.stepTimeout),
    heartbeatTimeout: toMillis(spec.execution.heartbeatTimeout),
    scheduleToCloseTimeout: toMillis(spec.execution.rollbackTimeout),
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  });
  // Analyses change nothing, so a failing one need not wait for its siblings to acknowledge cancellation.
  const measure = proxyActivities<Activities>({
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    startToCloseTimeout: toMillis(spec.execution.stepTimeout),
    heartbeatTimeout: toMillis(spec.execution.heartbeatTimeout),
    retry: {
      maximumAttempts: spec.execution.attempts,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
    },
  });

  // What people and the lane tell the release, between two of its steps.
  let granted = false;
  let lanePolicy: LanePolicy = { windows: [] };
  let laneChanges = 0;
  let waitingFor: string | undefined;
  let promotions = 0;
  let extensions = 0;
  let fullPromotion = false;
  let rejection: { actor: string; reason: string } | undefined;
  let rollbackRequest: { actor: string; reason: string } | undefined;
  let contractedAt: string | undefined;
  let schema: SchemaPlan | undefined;
  const saga = new Saga();
  const forwardScope = new CancellationScope();
  // Where the new version listens (from its deployer) and the routing found before the first shift.
  let canary: Deployment | undefined;
  let baseline: RouteSnapshot | undefined;
  const errorBudget = new ErrorBudgetGate(spec.errorBudget, {
    facts: () => release.facts,
    setHold: (hold) => release.setHold(hold),
    promotions: () => promotions,
    changes: () => laneChanges,
  });

  const requestRollback = (actor: string, reason: string) => {
    rollbackRequest ??= { actor, reason };
    forwardScope.cancel();
  };
  const rollbackRefusal = (): string | undefined => {
    if (contractedAt)
      return `schema contracted at ${contractedAt}; the old version cannot run on it any more, so fix forward with a new release`;
    if (isEndStage(release.stage)) return `the release already ended ${release.stage}`;
    if (release.stage === 'RollingBack') return 'the release is already rolling back';
    if (!canRollBack(release.stage)) return `a release cannot roll back from ${release.stage}`;
    return undefined;
  };

  setHandler(statusQuery, () => release.status);
  setHandler(inputQuery, () => input);

  setHandler(laneGrantedSignal, ({ stableVersion, policy }) => {
    granted = true;
    release.setStableVersion(stableVersion);
    lanePolicy = policy;
    laneChanges++;
  });
  setHandler(laneUpdateSignal, (update) => {
    lanePolicy = update.policy;
    waitingFor = update.waitingFor;
    laneChanges++;
  });

  setHandler(pauseSignal, (message) => {
    const actor = actorId(message);
    if (release.status.paused || isEndStage(release.stage)) return;
    release.status.paused = { by: actor, at: new Date().toISOString(), reason: message?.reason ?? 'paused by hand' };
    release.emit(
      'pause',
      `paused by ${actor}${message?.reason ? `: ${message.reason}` : ''}; holds at the next step`,
      actor,
    );
  });
  setHandler(resumeSignal, (message) => {
    if (!release.status.paused) return;
    release.status.paused = undefined;
    release.emit('resume', `resumed by ${actorId(message)}`, actorId(message));
  });
  setHandler(promoteSignal, (message) => {
    const actor = actorId(message);
    promotions++;
    fullPromotion ||= Boolean(message?.full);
    release.status.paused = undefined;
    release.emit('promote', `${message?.full ? 'fully promoted' : 'promoted'} by ${actor}`, actor);
  });
  setHandler(extendAnalysisSignal, (message) => {
    extensions++;
    release.emit('promote', `analysis extended by ${actorId(message)}: measuring again`, actorId(message));
  });
  setHandler(abortSignal, (message) => {
    const actor = actorId(message);
    const why = `aborted by ${actor}${message?.reason ? `: ${message.reason}` : ''}`;
    const refusal = rollbackRefusal();
    if (refusal) {
      release.emit('abort', `abort by ${actor} ignored: ${refusal}`, actor);
      return;
    }
    release.emit('abort', why, actor);
    requestRollback(actor, why);
  });

  setHandler(
    rollbackUpdate,
    ({ actor, reason }) => {
      release.emit('abort', `rollback asked by ${actor.id}${reason ? `: ${reason}` : ''}`, actor.id);
      requestRollback(actor.id, `rolled back by ${actor.id}${reason ? `: ${reason}` : ''}`);
      return { message: `rolling back ${input.releaseId}` };
    },
    {
      validator: ({ actor }) => {
        requireActor(actor);
        const refusal = rollbackRefusal();
        if (refusal) throw ApplicationFailure.nonRetryable(`rollback refused: ${refusal}`, 'RollbackRefused');
      },
    },
  );

  setHandler(
    approveUpdate,
    ({ approver, comment }) => {
      const pending = release.status.pendingApproval!;
      const at = new Date().toISOString();
      pending.approvals.push({ approver: approver.id, approverName: approver.name, at, comment });
      release.status.decisions.push({ step: pending.label, approver: approver.id, decision: 'approved', at });
      const remaining = Math.max(0, pending.quorum - pending.approvals.length);
      release.emit(
        'approval',
        `approved by ${approver.name ?? approver.id}${comment ? `: ${comment}` : ''}`,
        approver.id,
        {
          step: pending.label,
          ...(comment ? { comment } : {}),
        },
      );
      release.setPendingApproval(pending);
      return {
        remaining,
        message: remaining ? `approved; ${remaining} more approval(s) needed` : 'approved; the release moves on',
      };
    },
    {
      validator: ({ approver }) => {
        requireActor(approver);
        const refusal = approvalRefusal({
          pending: release.status.pendingApproval,
          currentStage: release.stage,
          initiator: input.initiator,
          fourEyes,
          environment: spec.environment,
          approver,
        });
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'ApprovalRefused');
      },
    },
  );

  setHandler(
    rejectUpdate,
    ({ approver, comment, reason }) => {
      const why = reason ?? comment ?? 'no reason given';
      const pending = release.status.pendingApproval!;
      rejection = { actor: approver.id, reason: why };
      release.status.decisions.push({
        step: pending.label,
        approver: approver.id,
        decision: 'rejected',
        at: new Date().toISOString(),
      });
      release.emit('rejection', `rejected by ${approver.name ?? approver.id}: ${why}`, approver.id, {
        step: pending.label,
        comment: why,
      });
      return { remaining: 0, message: 'rejected; the release rolls back' };
    },
    {
      validator: ({ approver }) => {
        requireActor(approver);
        const refusal = rejectionRefusal({
          pending: release.status.pendingApproval,
          currentStage: release.stage,
          initiator: input.initiator,
          approver,
        });
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'ApprovalRefused');
      },
    },
  );

  /** Waits like `condition`, after writing what the release did so far: a waiting release is fully on record. */
  function waitUntil(fn: () => boolean, timeout?: number, options?: { summary: string }): Promise<boolean> {
    release.flush();
    if (timeout === undefined) return condition(fn).then(() => true);
    return options ? condition(fn, timeout, options) : condition(fn, timeout);
  }

  // ---- The stages, in order. Each is small and reads like the runbook it replaces. ----

  /** Holds between two steps while the lane is frozen, outside its windows, or the release is paused. */
  async function atStepBoundary(): Promise<void> {
    for (;;) {
      const gate = laneGate(lanePolicy, new Date());
      if (!gate.open) {
        release.setHold(gate);
        const seen = laneChanges;
        const wakeInMs = gate.reopensAt ? Math.max(1000, Date.parse(gate.reopensAt) - Date.now()) : undefined;
        // A durable timer until the window opens, or until the lane says something changed.
        if (wakeInMs === undefined) await waitUntil(() => laneChanges !== seen);
        else await waitUntil(() => laneChanges !== seen, wakeInMs, { summary: `hold: ${gate.reason}` });
        continue;
      }
      if (release.status.paused) {
        release.setHold({
          open: false,
          reason: `paused by ${release.status.paused.by}: ${release.status.paused.reason}`,
        });
        await waitUntil(() => !release.status.paused);
        continue;
      }
      if (await errorBudget.holdWhileBurning()) continue;
      if (release.status.hold) release.emit('resume', 'moving on');
      release.setHold(undefined);
      return;
    }
  }

  async function queued(): Promise<void> {
    release.enterStage('Queued', `waiting for the ${spec.service}/${spec.environment} lane`, input.initiator.id);
    await joinLane.executeWithOptions({ summary: `join lane ${laneId}` }, [
      {
        laneId,
        service: spec.service,
        environment: spec.environment,
        releaseId: input.releaseId,
        version: spec.version,
      },
    ]);
    if (!granted) {
      await waitUntil(() => granted || waitingFor !== undefined);
      if (!granted) release.setHold({ open: false, reason: `waiting for ${waitingFor} to finish` });
      await waitUntil(() => granted);
    }
    release.emit(
      'step',
      `admitted by the lane; rollback target is ${release.status.stableVersion ?? 'none (first release of this lane)'}`,
    );
    await atStepBoundary();
  }

  async function planning(): Promise<void> {
    release.enterStage('Planning', `${plan.strategy}: ${plan.steps.map((step) => step.label).join(' → ')}`);
    const budget = await errorBudget.atPlanning();
    if (budget) release.emit('step', budget.reason);
    if (budget?.measured && !budget.open) throw new StopRelease(`not started: ${budget.reason}`);
    if (spec.database) await planSchema(spec.database);
  }

  /** What the schema side of the release will do, refused before anything changes if it is unsafe. */
  async function planSchema(database: NonNullable<typeof spec.database>): Promise<void> {
    schema = await planSchemaChanges.executeWithOptions({ summary: 'schema: plan and safety check' }, [
      { releaseId: input.releaseId, database },
    ]);
    if (schema.findings.length > 0) {
      const findings = schema.findings.map(
        (finding) => `${finding.file}: \`${finding.statement}\`: ${finding.problem}. Instead: ${finding.fix}`,
      );
      throw new StopRelease(
        `not started: the schema safety check refused ${findings.length} statement(s):\n- ${findings.join('\n- ')}`,
      );
    }
    release.setMigrations(
      [...schema.expand, ...schema.contract].map(({ name, phase }) => ({ name, phase, state: 'pending' as const })),
    );
    release.emit(
      'step',
      `schema: ${schema.expand.length} expand and ${schema.contract.length} contract migration(s) pending; the safety check found nothing unsafe`,
    );
  }

  function migrationRequest(migration: PendingMigration, direction: 'up' | 'down') {
    return { releaseId: input.releaseId, database: spec.database!, name: migration.name, direction };
  }

  /** Expand: what both versions can run on, before the new version gets any traffic. */
  async function expanding(): Promise<void> {
    if (!schema?.expand.length) return;
    await atStepBoundary();
    const revert = spec.database!.onRollback === 'revert';
    release.enterStage('Expanding', schema.expand.map((migration) => migration.name).join(', '));
    for (const migration of schema.expand) {
      saga.push({
        name: revert
          ? `revert ${migration.name}`
          : `keep ${migration.name} (the old version runs on the expanded schema)`,
        run: async () => {
          if (!revert) return release.setMigrationState(migration.name, 'kept');
          await undo.applySchemaMigration.executeWithOptions({ summary: `rollback: revert ${migration.name}` }, [
            migrationRequest(migration, 'down'),
          ]);
          release.setMigrationState(migration.name, 'reverted');
        },
      });
      release.setMigrationState(migration.name, 'running');
      const outcome = await forward.applySchemaMigration.executeWithOptions({ summary: `expand ${migration.name}` }, [
        migrationRequest(migration, 'up'),
      ]);
      release.setMigrationState(migration.name, 'applied');
      release.emit('step', `expand ${migration.name}: ${outcome}`);
    }
  }

  /** Backfill: rows written before the expand get their new columns, a batch at a time. */
  async function backfilling(): Promise<void> {
    const backfills = schema?.expand.filter((migration) => migration.backfill) ?? [];
    if (backfills.length === 0) return;
    await atStepBoundary();
    release.enterStage(
      'Backfilling',
      backfills.map((migration) => `${migration.backfill!.table} (${migration.name})`).join(', '),
    );
    for (const migration of backfills) {
      let progress: BackfillProgress;
      do {
        progress = await forward.runBackfill.executeWithOptions(
          { summary: `backfill ${migration.backfill!.table} (${migration.name})` },
          [
            {
              releaseId: input.releaseId,
              database: spec.database!,
              migration: migration.name,
              backfill: migration.backfill!,
              chunkMs: BACKFILL_CHUNK_MS,
            },
          ],
        );
        release.setBackfill(progress);
        if (!progress.done) await atStepBoundary(); // a pause or a freeze holds the backfill between chunks
      } while (!progress.done);
      release.emit(
        'step',
        `${describeBackfill(progress)}: done, ${progress.rowsUpdated} row(s) rewritten` +
          (progress.resumes ? `, resumed ${progress.resumes} time(s) from its checkpoint` : ''),
        TOLLGATE_ACTOR,
        {
          backfill: {
            migration: migration.name,
            table: progress.table,
            rowsScanned: progress.rowsScanned,
            rowsUpdated: progress.rowsUpdated,
            resumes: progress.resumes,
          },
        },
      );
    }
  }

  /** Contract is the point of no return: all traffic on the new version, the bake passed, and a person agrees. */
  async function awaitingContract(): Promise<void> {
    if (!schema?.contract.length) return;
    await atStepBoundary();
    const approval = spec.database!.contractApproval ?? { from: strategyApprovers(spec.strategy), quorum: 1 };
    release.enterStage(
      'AwaitingContract',
      `${schema.contract.map((migration) => migration.name).join(', ')}; after it, no rollback`,
    );
    await awaitApproval(-1, {
      kind: 'approval',
      approval,
      label: `approve the contract (no rollback after it) from ${approval.from.join(', ')}`,
    });
    release.emit('step', 'contract approved');
  }

  async function contracting(): Promise<void> {
    if (!schema?.contract.length) return;
    await atStepBoundary();
    contractedAt = new Date().toISOString();
    release.setContractedAt(contractedAt);
    release.enterStage(
      'Contracting',
      `${schema.contract.map((migration) => migration.name).join(', ')}; rollback is no longer possible`,
    );
    for (const migration of schema.contract) {
      release.setMigrationState(migration.name, 'running');
      try {
        const outcome = await forward.applySchemaMigration.executeWithOptions(
          { summary: `contract ${migration.name}` },
          [migrationRequest(migration, 'up')],
        );
        release.emit('step', `contract ${migration.name}: ${outcome}`);
      } catch (err) {
        throw new StopRelease(
          `contract ${migration.name} failed (${describeFailure(err)}); the schema may be partly contracted and cannot be rolled back: fix forward`,
        );
      }
      release.setMigrationState(migration.name, 'applied');
    }
  }

  async function deploying(): Promise<void> {
    await atStepBoundary();
    release.enterStage('Deploying', `starting ${spec.version} with ${spec.deploy.provider}`);
    saga.push({
      name: `undeploy ${spec.version}`,
      run: () =>
        undo.undeploy.executeWithOptions({ summary: `rollback: undeploy ${spec.version}` }, [
          {
            facts: release.facts,
            config: spec.deploy,
            version: spec.version,
            stepId: `${input.releaseId}/undeploy`,
            compensating: true,
          },
        ]),
    });
    canary = await forward.deploy.executeWithOptions({ summary: `deploy ${spec.version}` }, [
      { facts: release.facts, config: spec.deploy, version: spec.version, stepId: `${input.releaseId}/deploy` },
    ]);
    if (canary)
      release.emit('step', `${spec.version} ready on ${canary.endpoints.map((e) => `${e.host}:${e.port}`).join(', ')}`);
  }

  async function shifting(): Promise<void> {
    release.enterStage('Shifting', `${plan.steps.length} steps`);
    for (const [index, step] of plan.steps.entries()) {
      await atStepBoundary();
      if (fullPromotion && (step.kind === 'pause' || step.kind === 'analysis')) {
        release.finishStep(index, 'skipped');
        continue;
      }
      release.startStep(index);
      await runStep(index, step);
      release.finishStep(index);
    }
  }

  async function runStep(index: number, step: PlanStep): Promise<void> {
    switch (step.kind) {
      case 'setWeight':
        return setWeight(index, step.weight);
      case 'pause':
        return pause(step.durationMs);
      case 'approval':
        return awaitApproval(index, step);
      case 'analysis':
        return analyse(index, step);
    }
  }

  async function setWeight(index: number, weight: number): Promise<void> {
    const before = release.weight;
    // Rolling moves whole servers; canary and blue-green move weights.
    const mode = plan.strategy === 'rolling' ? ('servers' as const) : ('weights' as const);
    saga.push({
      name: `restore traffic to ${before}% on ${spec.version}`,
      mergeKey: 'traffic',
      run: async () => {
        await undo.setWeight.executeWithOptions({ summary: `rollback: setWeight ${before}` }, [
          {
            facts: release.facts,
            config: spec.traffic,
            weight: before,
            previousWeight: release.weight,
            canary,
            baseline,
            mode,
            stepId: `${input.releaseId}/restore-weight`,
            compensating: true,
          },
        ]);
        release.setWeight(before);
      },
    });
    const result = await forward.setWeight.executeWithOptions({ summary: `setWeight ${weight}` }, [
      {
        facts: release.facts,
        config: spec.traffic,
        weight,
        previousWeight: before,
        canary,
        baseline,
        mode,
        stepId: `${input.releaseId}/step-${index}`,
      },
    ]);
    baseline ??= result.baseline;
    release.setWeight(weight);
    release.emit('step', `traffic at ${weight}%${result.verified ? ' (read back)' : ''}`);
  }

  async function pause(durationMs: number | undefined): Promise<void> {
    const seen = promotions;
    if (durationMs === undefined) {
      release.setHold({ open: false, reason: 'paused until someone promotes' });
      await waitUntil(() => promotions !== seen);
    } else {
      await waitUntil(() => promotions !== seen, durationMs, { summary: `pause ${formatMillis(durationMs)}` });
    }
    release.setHold(undefined);
  }

  async function awaitApproval(index: number, step: Extract<PlanStep, { kind: 'approval' }>): Promise<void> {
    const timeoutMs = toMillis(spec.approvals.timeout);
    release.setPendingApproval({
      stepIndex: index,
      label: step.label,
      from: step.approval.from,
      quorum: step.approval.quorum,
      approvals: [],
      deadline: new Date(Date.now() + timeoutMs).toISOString(),
    });
    const decided = await waitUntil(
      () => rejection !== undefined || (release.status.pendingApproval?.approvals.length ?? 0) >= step.approval.quorum,
      timeoutMs,
      { summary: `await ${step.label}` },
    );
    release.setPendingApproval(undefined);
    if (rejection) throw new RollbackRequested(`rejected by ${rejection.actor}: ${rejection.reason}`, rejection.actor);
    if (!decided) {
      const why = `no decision on "${step.label}" within ${spec.approvals.timeout}`;
      if (spec.approvals.onTimeout === 'fail')
        throw new StopRelease(`${why}; stopped where it stands (approvals.onTimeout: fail)`);
      throw new RollbackRequested(`${why} (approvals.onTimeout: rollback)`, TOLLGATE_ACTOR);
    }
  }

  async function analyse(index: number, step: Extract<PlanStep, { kind: 'analysis' }>): Promise<void> {
    const durationMs = step.analysis.duration ? toMillis(step.analysis.duration) : undefined;
    // Measured again as long as people ask for more evidence (Extend), until it decides or they do.
    for (let round = 0; ; round++) {
      const { verdict, summary } = await measureOnce(index, step, durationMs, round);
      if (verdict === 'Failed' || verdict === 'Error')
        throw new RollbackRequested(`analysis ${verdict.toLowerCase()}: ${summary}`, TOLLGATE_ACTOR);
      if (verdict !== 'Inconclusive') return;
      // Not enough evidence either way: a person decides (promote to go on, extend to measure
      // again, roll back to undo).
      const [promoted, extended] = [promotions, extensions];
      release.setHold({
        open: false,
        reason: `analysis inconclusive, waiting for a person to promote, extend or roll back: ${summary}`,
      });
      await waitUntil(() => promotions !== promoted || extensions !== extended);
      release.setHold(undefined);
      if (promotions !== promoted) return;
    }
  }

  /** One run of every template of an analysis step. A failing template cancels the others: the release rolls back at once. */
  async function measureOnce(
    index: number,
    step: Extract<PlanStep, { kind: 'analysis' }>,
    durationMs: number | undefined,
    round: number,
  ): Promise<{ verdict: TemplateResult['verdict']; summary: string }> {
    release.flush(); // an analysis takes a while: put what led to it on record first
    const results: TemplateResult[] = [];
    const failing = (result: TemplateResult) => result.verdict === 'Failed' || result.verdict === 'Error';
    const analyses = new CancellationScope();
    try {
      await analyses.run(() =>
        Promise.all(
          step.analysis.templates.map(async (name) => {
            const result = await measure.runAnalysis.executeWithOptions(
              {
                summary: `analysis ${name} at ${release.weight}%`,
                startToCloseTimeout: (durationMs ?? 0) + toMillis(spec.execution.stepTimeout),
              },
              [
                {
                  facts: release.facts,
                  name,
                  template: spec.analysis[name],
                  durationMs,
                  weight: release.weight,
                  canary,
                  stepId: `${input.releaseId}/step-${index}/${name}${round ? `/extension-${round}` : ''}`,
                },
              ],
            );
            results.push(result);
            if (failing(result)) analyses.cancel();
          }),
        ),
      );
    } catch (err) {
      if (!isCancellation(err) || !results.some(failing)) throw err;
    }
    const verdict = combineVerdicts(results.map((result) => result.verdict));
    release.setAnalysis({ stepLabel: step.label, verdict, templates: results, at: new Date().toISOString() });
    const summary = results.map((result) => result.summary).join('; ');
    release.emit('analysis', `analysis ${verdict}: ${summary}`, TOLLGATE_ACTOR, { verdict });
    return { verdict, summary };
  }

  async function baking(): Promise<void> {
    const stable = release.status.stableVersion;
    const retire = stable !== undefined && stable !== spec.version;
    if (plan.bakeMs === 0 && !retire) return;
    await atStepBoundary();
    release.enterStage(
      'Baking',
      plan.bakeMs ? `watching ${spec.version} at 100% for ${formatMillis(plan.bakeMs)}` : `retiring ${stable}`,
    );
    if (plan.bakeMs > 0) {
      const seen = promotions;
      await waitUntil(() => promotions !== seen, plan.bakeMs, { summary: `bake ${formatMillis(plan.bakeMs)}` });
    }
    if (!retire) return;
    await atStepBoundary();
    saga.push({
      name: `restart ${stable}`,
      run: async () => {
        await undo.deploy.executeWithOptions({ summary: `rollback: redeploy ${stable}` }, [
          {
            facts: release.facts,
            config: spec.deploy,
            version: stable,
            stepId: `${input.releaseId}/restore-stable`,
            compensating: true,
          },
        ]);
      },
    });
    await forward.undeploy.executeWithOptions({ summary: `retire ${stable}` }, [
      { facts: release.facts, config: spec.deploy, version: stable, stepId: `${input.releaseId}/retire-stable` },
    ]);
    release.emit('step', `retired ${stable}`);
  }

  async function rollBack(reason: string, actor: string): Promise<ReleaseResult> {
    release.enterStage('RollingBack', `${reason}; undoing: ${saga.pending.join(' → ') || 'nothing to undo'}`, actor);
    try {
      // Never cancelled: an abort or a second rollback request must not stop the cleanup.
      await CancellationScope.nonCancellable(() =>
        saga.compensate((compensation) => release.emit('compensation', `undone: ${compensation.name}`)),
      );
    } catch (err) {
      const why = `${reason}; then ${(err as Error).message}. A person must finish the rollback by hand`;
      release.finish('Failed', why);
      return {
        releaseId: input.releaseId,
        outcome: 'Failed',
        reason: why,
        stableVersion: release.status.stableVersion,
      };
    }
    release.finish('RolledBack', reason);
    return { releaseId: input.releaseId, outcome: 'RolledBack', reason, stableVersion: release.status.stableVersion };
  }

  // ---- The runbook ----

  let result: ReleaseResult;
  try {
    await forwardScope.run(async () => {
      await queued();
      await planning();
      await expanding();
      await backfilling();
      await deploying();
      await shifting();
      await baking();
      await awaitingContract();
      await contracting();
    });
    release.finish('Succeeded', `${spec.version} serves all traffic`);
    result = { releaseId: input.releaseId, outcome: 'Succeeded', stableVersion: spec.version };
  } catch (err) {
    if (err instanceof StopRelease) {
      release.finish('Failed', err.reason);
      result = {
        releaseId: input.releaseId,
        outcome: 'Failed',
        reason: err.reason,
        stableVersion: release.status.stableVersion,
      };
    } else if (err instanceof RollbackRequested) {
      result = await rollBack(err.reason, err.actor);
    } else if (isCancellation(err) && rollbackRequest) {
      result = await rollBack(rollbackRequest.reason, rollbackRequest.actor);
    } else {
      result = await rollBack(describeFailure(err), TOLLGATE_ACTOR);
    }
  }

  await CancellationScope.nonCancellable(async () => {
    try {
      await getExternalWorkflowHandle(laneId).signal(releaseFinishedSignal, {
        releaseId: input.releaseId,
        version: spec.version,
        outcome: result.outcome,
      });
    } catch (err) {
      release.emit('error', `could not tell the lane that the release ended: ${(err as Error).message}`);
    }
  });
  await release.recorded();
  await condition(allHandlersFinished);
  return result;
}

/**
 * Who sent a signal. Signals cannot be refused, and a handler that throws would wedge the
 * workflow, so a malformed sender is recorded as "unknown" rather than trusted or rejected.
 */
function actorId(message: { actor?: unknown } | undefined): string {
  return actorProblem(message?.actor) ? 'unknown' : (message!.actor as Actor).id;
}

function requireActor(actor: unknown): void {
  const problem = actorProblem(actor);
  if (problem) throw ApplicationFailure.nonRetryable(`who is asking? ${problem}`, 'InvalidActor');
}

/** The failure of a step, in the words of its deepest cause (the command's own error). */
function describeFailure(err: unknown): string {
  let cause: unknown = err;
  const parts: string[] = [];
  while (cause instanceof Error) {
    if (cause.message && !parts.includes(cause.message)) parts.push(cause.message);
    cause = (cause as Error & { cause?: unknown }).cause;
  }
  const deepest = parts[parts.length - 1] ?? String(err);
  return `step failed: ${deepest}`;
}
