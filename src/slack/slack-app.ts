import { App, HTTPReceiver, LogLevel, type BlockButtonAction, type Logger as BoltLogger } from '@slack/bolt';
import type { ReleaseClient } from '../client/release-client';
import type { Config } from '../config';
import { ApprovalRefused, InvalidActor, NotFound, RollbackRefused, SpecError, TollgateError } from '../domain/errors';
import { laneIdFor } from '../domain/release';
import type { Actor } from '../domain/spec';
import type { Logger } from '../logger';
import type { SpecCatalogue } from '../specs/catalogue';
import { PipelineClient } from '../client/pipeline-client';
import { TemporalUnreachable } from '../temporal/connection';
import { USAGE, parseReleaseCommand, type ReleaseCommand } from './command-text';
import { escapeMrkdwn } from './mrkdwn';
import { ACTIONS } from './release-message';
import { releaseModal, RELEASE_MODAL, readReleaseModal } from './release-modal';
import type { Releasers } from './releasers';
import { refuseStaleOrFutureRequests } from './request-freshness';
import { UserGroupDirectory } from './user-groups';
import type { AppIdentity } from '../identity/app-identity';
import type { DecisionKind } from '../domain/decision';
import { SlackPeople } from './slack-people';

export interface SlackAppDeps {
  config: Pick<
    Config,
    'SLACK_BOT_TOKEN' | 'SLACK_SIGNING_SECRET' | 'SLACK_APP_TOKEN' | 'SLACK_SOCKET_MODE' | 'SLACK_API_URL'
  >;
  /** Connects to Temporal on first use (and again after a failure), so the app starts without it. */
  releases: () => Promise<ReleaseClient>;
  catalogue?: SpecCatalogue;
  releasers: Releasers;
  log: Logger;
  /** Signs who decided for the worker to check; without it (local mode) decisions carry no proof. */
  identity?: AppIdentity;
}

/** The proof that goes with a decision made in Slack (an assertion signed by the app), if any. */
function proofOf(deps: SlackAppDeps, actor: Actor, kind: DecisionKind, target: string): Promise<string | undefined> {
  return deps.identity?.proofFor(actor, kind, target) ?? Promise.resolve(undefined);
}

export interface SlackApp {
  app: App;
  /** HTTP mode: mount on the app server at /slack/events. Socket Mode: undefined (call app.start()). */
  requestListener?: HTTPReceiver['requestListener'];
}

/**
 * Tollgate's Slack app: `/release`, its modal, and the buttons of each release's message. Every
 * request is acknowledged at once (Slack allows 3 seconds) and the answer follows through
 * response_url, so a slow Temporal never makes Slack show a timeout. Identity is the user id of
 * Slack's signed request; group memberships come from Slack's API.
 */
export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { config } = deps;
  if (!config.SLACK_BOT_TOKEN) throw new TollgateError('CONFIG_INVALID', 'SLACK_BOT_TOKEN is not set (docs/slack.md)');
  const logger = boltLogger(deps.log);
  const clientOptions = {
    slackApiUrl: config.SLACK_API_URL,
    retryConfig: { retries: 1, minTimeout: 200, maxTimeout: 1000 },
  };
  let app: App;
  let receiver: HTTPReceiver | undefined;
  if (config.SLACK_SOCKET_MODE) {
    if (!config.SLACK_APP_TOKEN)
      throw new TollgateError(
        'CONFIG_INVALID',
        'SLACK_SOCKET_MODE needs SLACK_APP_TOKEN (xapp-..., Basic Information → App-Level Tokens)',
      );
    app = new App({
      token: config.SLACK_BOT_TOKEN,
      appToken: config.SLACK_APP_TOKEN,
      socketMode: true,
      clientOptions,
      logger,
    });
  } else {
    if (!config.SLACK_SIGNING_SECRET)
      throw new TollgateError(
        'CONFIG_INVALID',
        'SLACK_SIGNING_SECRET is not set: without it requests cannot be proven to come from Slack',
      );
    receiver = new HTTPReceiver({ signingSecret: config.SLACK_SIGNING_SECRET, endpoints: ['/slack/events'], logger });
    app = new App({ token: config.SLACK_BOT_TOKEN, receiver, clientOptions, logger });
  }
  const people = new SlackPeople(
    app.client,
    new UserGroupDirectory(app.client),
    deps.identity !== undefined && deps.identity.settings.mode !== 'none',
  );
  const actorOf = (user: { id: string; name?: string; username?: string }): Promise<Actor> => people.actorOf(user);

  app.command('/release', async ({ command, ack, respond, context }) => {
    await ack();
    const reply = (text: string) => respond({ response_type: 'ephemeral', text });
    try {
      const request = parseReleaseCommand(command.text);
      if (request.kind === 'modal') {
        await app.client.views.open({
          trigger_id: command.trigger_id,
          view: releaseModal(deps.catalogue?.entries() ?? [], command.channel_id),
        });
        return;
      }
      const actor = await actorOf({ id: command.user_id, name: command.user_name });
      await reply(await runCommand(deps, request, actor, command.channel_id, context.retryNum));
    } catch (err) {
      await reply(describeError(err, deps.log));
    }
  });

  app.view(RELEASE_MODAL, async ({ ack, view, body }) => {
    const form = readReleaseModal(view);
    if ('errors' in form) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    const actor = await actorOf(body.user);
    const text = await runCommand(deps, { kind: 'start', ...form.request }, actor, form.channel).catch((err) =>
      describeError(err, deps.log),
    );
    await app.client.chat.postEphemeral({ channel: form.channel, user: body.user.id, text });
  });

  app.action<BlockButtonAction>(
    { type: 'block_actions', action_id: /^release_/ },
    async ({ ack, body, action, respond }) => {
      await ack();
      const refuse = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      try {
        const actor = await actorOf(body.user);
        const answer = await pressButton(deps, action.action_id, action.value ?? '', actor);
        if (answer) await refuse(answer);
      } catch (err) {
        await refuse(describeError(err, deps.log));
      }
    },
  );

  app.error(async (error) => {
    deps.log.error({ err: error }, 'Slack listener failed');
  });

  return { app, requestListener: receiver && refuseStaleOrFutureRequests(receiver.requestListener) };
}

/** Runs a `/release` command and says, in one message, what happened or why nothing did. */
async function runCommand(
  deps: SlackAppDeps,
  request: ReleaseCommand,
  actor: Actor,
  channel: string,
  retryNum?: number,
): Promise<string> {
  switch (request.kind) {
    case 'modal':
    case 'help':
      return `${request.kind === 'help' && request.problem ? `${request.problem}.\n` : ''}${USAGE}`;
    case 'start': {
      if (!deps.catalogue) return 'Releases cannot be started from Slack here: TOLLGATE_SPEC_CATALOGUE is not set.';
      const entries = deps.catalogue.entries();
      const environments = entries.find((entry) => entry.service === request.service)?.environments;
      if (!environments)
        return `Unknown service ${request.service}. The catalogue has ${entries.map((entry) => entry.service).join(', ') || 'no services'}.`;
      const environment = request.environment ?? (environments.length === 1 ? environments[0] : undefined);
      if (!environment)
        return `Which environment? ${request.service} has ${environments.join(', ')}: \`/release ${request.service} ${request.version} <environment>\``;
      if (!environments.includes(environment))
        return `${request.service} has no ${environment} spec; it has ${environments.join(', ')}.`;
      const refusal = deps.releasers.refusal(environment, {
        id: actor.id,
        groups: actor.groups ?? [],
        aliases: actor.aliases,
      });
      if (refusal) return `Not started: ${refusal}.`;
      const spec = deps.catalogue.load(request.service, environment, { version: request.version });
      const releases = await deps.releases();
      const lane = await releases.lane(request.service, environment).catch((err) => {
        if (err instanceof NotFound) return undefined;
        throw err;
      });
      if (lane && !lane.gate.open)
        return `Not started: ${request.service}/${environment} is held (${escapeMrkdwn(lane.gate.reason)}).`;
      const slackChannel = spec.notify?.slack?.channel ?? channel;
      const withChannel = {
        ...spec,
        notify: { ...spec.notify, slack: { ...spec.notify?.slack, channel: slackChannel } },
      };
      const { releaseId, started } = await releases.start(withChannel, actor);
      if (!started) return `${releaseId} is already running${retryNum ? '' : '; nothing new was started'}.`;
      return `Started \`${releaseId}\`; its message in <#${slackChannel.replace(/^#/, '')}> follows it.`;
    }
    case 'pipeline': {
      if (!deps.catalogue) return 'Pipelines cannot be started from Slack here: TOLLGATE_SPEC_CATALOGUE is not set.';
      const pipeline = deps.catalogue.loadPipeline(request.service, undefined, {
        commit: { sha: request.sha, committedAt: request.committedAt },
        version: request.version,
      });
      for (const stage of pipeline.stages) {
        const refusal = deps.releasers.refusal(stage.environment, { id: actor.id, groups: actor.groups ?? [] });
        if (refusal) return `Not started: ${refusal}.`;
      }
      const slackChannel = pipeline.spec.notify?.slack?.channel ?? channel;
      const releases = await deps.releases();
      const { pipelineId, started } = await new PipelineClient(releases.client, releases.taskQueue).start(
        { ...pipeline, spec: { ...pipeline.spec, notify: { slack: { channel: slackChannel } } } },
        actor,
      );
      if (!started) return `${pipelineId} is already running${retryNum ? '' : '; nothing new was started'}.`;
      return `Started \`${pipelineId}\` (${pipeline.stages.map((stage) => stage.environment).join(' → ')}); its message in <#${slackChannel.replace(/^#/, '')}> follows the whole run.`;
    }
    case 'status': {
      const releases = await (await deps.releases()).list({ service: request.service, limit: 10 });
      if (releases.length === 0) return request.service ? `No releases of ${request.service}.` : 'No releases yet.';
      return releases
        .map(
          (r) => `• \`${r.releaseId}\` ${r.stage} at ${r.weight ?? 0}% (by ${escapeMrkdwn(r.initiator ?? 'unknown')})`,
        )
        .join('\n');
    }
    case 'rollback': {
      const environment = request.environment ?? 'production';
      const refusal = deps.releasers.refusal(environment, {
        id: actor.id,
        groups: actor.groups ?? [],
        aliases: actor.aliases,
      });
      if (refusal) return `Not rolled back: ${refusal}.`;
      const releases = await deps.releases();
      const lane = await releases.lane(request.service, environment);
      if (!lane.current) return `Nothing to roll back: no release of ${request.service} is running in ${environment}.`;
      const proof = await proofOf(deps, actor, 'rollback', lane.current);
      const answer = await releases.rollback(lane.current, { actor, reason: 'asked in Slack', proof });
      return `${escapeMrkdwn(answer.message)}.`;
    }
    case 'freeze':
    case 'unfreeze': {
      const refusal = deps.releasers.refusal(request.environment, {
        id: actor.id,
        groups: actor.groups ?? [],
        aliases: actor.aliases,
      });
      if (refusal) return `Not changed: ${refusal}.`;
      const releases = await deps.releases();
      if (request.kind === 'freeze') {
        const laneId = laneIdFor(request.service, request.environment);
        await releases.freeze(
          request.service,
          request.environment,
          { reason: request.reason, by: actor.id, at: new Date().toISOString() },
          await proofOf(deps, actor, 'freeze', laneId),
        );
        return `Froze ${request.service}/${request.environment}: ${escapeMrkdwn(request.reason)}. Rollbacks still run.`;
      }
      const laneId = laneIdFor(request.service, request.environment);
      await releases.unfreeze(
        request.service,
        request.environment,
        actor.id,
        request.reason,
        await proofOf(deps, actor, 'unfreeze', laneId),
      );
      return `Unfroze ${request.service}/${request.environment}.`;
    }
  }
}

/** Turns a button into an update or signal. Returns a message for the clicker, or nothing. */
async function pressButton(
  deps: SlackAppDeps,
  actionId: string,
  releaseId: string,
  actor: Actor,
): Promise<string | undefined> {
  const releases = await deps.releases();
  const proof = (kind: DecisionKind) => proofOf(deps, actor, kind, releaseId);
  switch (actionId) {
    case ACTIONS.approve: {
      const answer = await releases.approve(releaseId, { approver: actor, proof: await proof('approve') });
      return answer.remaining ? `Approved; ${answer.remaining} more approval(s) needed.` : undefined;
    }
    case ACTIONS.reject:
      await releases.reject(releaseId, {
        approver: actor,
        reason: `rejected in Slack by ${actor.name ?? actor.id}`,
        proof: await proof('reject'),
      });
      return undefined;
  }
  // Steering a release (pause, roll back, ...) is for the people who may release to its environment.
  const { environment } = await releases.status(releaseId);
  const refusal = deps.releasers.refusal(environment, {
    id: actor.id,
    groups: actor.groups ?? [],
    aliases: actor.aliases,
  });
  if (refusal) return `Refused: ${refusal}.`;
  switch (actionId) {
    case ACTIONS.pause:
      await releases.pause(releaseId, { actor, reason: 'paused in Slack', proof: await proof('pause') });
      return undefined;
    case ACTIONS.resume:
      await releases.resume(releaseId, { actor, proof: await proof('resume') });
      return undefined;
    case ACTIONS.promote:
      await releases.promote(releaseId, { actor, proof: await proof('promote') });
      return undefined;
    case ACTIONS.extend:
      await releases.extendAnalysis(releaseId, { actor, proof: await proof('extendAnalysis') });
      return undefined;
    case ACTIONS.rollback:
      await releases.rollback(releaseId, { actor, reason: 'asked in Slack', proof: await proof('rollback') });
      return undefined;
    default:
      return `Unknown button ${actionId}.`;
  }
}

/** What the person is told when something is refused or broken: the reason, never a stack trace. */
function describeError(err: unknown, log: Logger): string {
  if (err instanceof ApprovalRefused || err instanceof RollbackRefused || err instanceof InvalidActor)
    return `Refused: ${escapeMrkdwn(err.message)}`;
  if (err instanceof TemporalUnreachable)
    return 'Tollgate cannot reach Temporal right now, so nothing was started or changed. Try again in a minute; if it lasts, tell the platform team.';
  if (err instanceof SpecError)
    return `The catalogue's spec is not valid, so nothing was started:\n\`\`\`${escapeMrkdwn(err.message)}\`\`\``;
  if (err instanceof TollgateError) return escapeMrkdwn(err.message);
  log.error({ err }, 'Slack command failed');
  return 'Something went wrong in Tollgate; nothing was changed. The platform team can find the details in its log.';
}

function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'slack' });
  return {
    debug: (...msg) => child.debug(msg.join(' ')),
    info: (...msg) => child.info(msg.join(' ')),
    warn: (...msg) => child.warn(msg.join(' ')),
    error: (...msg) => child.error(msg.join(' ')),
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  };
}
