import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../domain/failures';
import type { ReleaseEvent } from '../domain/events';
import { escapeMrkdwn } from '../slack/mrkdwn';
import { MESSAGE_EVENT_TYPE, person, renderReleaseMessage, type MessageStatus } from '../slack/release-message';
import { required } from '../domain/required';
import type { ActivityDeps } from './deps';
import type { WebClient } from '@slack/web-api';
import type { PipelineStatus } from '../domain/pipeline';
import { renderPipelineMessage } from '../slack/pipeline-message';

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

export interface PublishRequest {
  releaseId: string;
  /** From the spec: `#deploys` or a channel id. */
  channel: string;
  /** The message posted earlier, when the workflow knows it. */
  message?: SlackMessageRef;
  status: MessageStatus;
  /** Events not yet told in the message's thread. */
  events: ReleaseEvent[];
}

export interface PublishResult {
  message: SlackMessageRef;
  /** The last event told in the thread. */
  postedUpTo: number;
}

/** Thread replies carry this, so a retried attempt skips what it already posted. */
const EVENT_TYPE_THREAD = 'tollgate_release_event';
/** The metadata payload Tollgate writes; Slack's response types leave payloads untyped. */
function payload(message: { metadata?: { event_payload?: object } }): Record<string, unknown> {
  return (message.metadata?.event_payload ?? {}) as Record<string, unknown>;
}

const THREAD_KINDS = new Set([
  'stage',
  'approval',
  'rejection',
  'analysis',
  'abort',
  'pause',
  'resume',
  'promote',
  'compensation',
  'error',
]);

export function createNotifyActivities(deps: ActivityDeps) {
  const channelIds = new Map<string, string>();

  async function channelId(slack: WebClient, channel: string): Promise<string> {
    if (!channel.startsWith('#')) return channel;
    const known = channelIds.get(channel);
    if (known) return known;
    for (let cursor: string | undefined; ;) {
      const page = await slack.conversations.list({
        cursor,
        limit: 200,
        exclude_archived: true,
        types: 'public_channel,private_channel',
      });
      const found = page.channels?.find((candidate) => candidate.name === channel.slice(1));
      if (found?.id) {
        channelIds.set(channel, found.id);
        return found.id;
      }
      cursor = page.response_metadata?.next_cursor || undefined;
      if (!cursor)
        throw ApplicationFailure.nonRetryable(
          `Slack channel ${channel} not found, or the Tollgate app is not in it (/invite @Tollgate)`,
          FailureType.SlackChannelNotFound,
        );
    }
  }

  /** The message an earlier attempt posted before its worker died, found by its metadata. */
  async function postedBefore(
    slack: WebClient,
    channel: string,
    releaseId: string,
  ): Promise<SlackMessageRef | undefined> {
    const history = await slack.conversations.history({ channel, limit: 200, include_all_metadata: true });
    const found = history.messages?.find(
      (message) => message.metadata?.event_type === MESSAGE_EVENT_TYPE && payload(message).release_id === releaseId,
    );
    return found?.ts ? { channel, ts: found.ts } : undefined;
  }

  async function threadSeqsPosted(slack: WebClient, message: SlackMessageRef): Promise<Set<number>> {
    const replies = await slack.conversations.replies({
      channel: message.channel,
      ts: message.ts,
      limit: 1000,
      include_all_metadata: true,
    });
    return new Set(
      (replies.messages ?? [])
        .filter((reply) => reply.metadata?.event_type === EVENT_TYPE_THREAD)
        .map((reply) => Number(payload(reply).seq)),
    );
  }

  return {
    /**
     * Posts a pipeline run's live message the first time and edits it after: the whole run, every
     * environment. Idempotent like the release's: a retry finds the message an earlier attempt posted.
     */
    async publishPipelineMessage(request: {
      pipelineId: string;
      channel: string;
      message?: SlackMessageRef;
      status: PipelineStatus;
    }): Promise<SlackMessageRef> {
      const { slack } = deps;
      if (!slack)
        throw ApplicationFailure.nonRetryable(
          'SLACK_BOT_TOKEN is not set where the worker runs; the pipeline goes on without its Slack message',
          FailureType.SlackNotConfigured,
        );
      const { text, blocks } = renderPipelineMessage(request.status);
      const channel = request.message?.channel ?? (await channelId(slack, request.channel));
      const message = request.message ?? (await postedBefore(slack, channel, request.pipelineId));
      if (message) {
        await slack.chat.update({ channel: message.channel, ts: message.ts, text, blocks });
        return message;
      }
      const posted = await slack.chat.postMessage({
        channel,
        text,
        blocks,
        metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { release_id: request.pipelineId } },
        unfurl_links: false,
      });
      return { channel: posted.channel ?? channel, ts: required(posted.ts, 'ts of the posted message') };
    },

    /**
     * Posts the release's live message the first time and edits it after; tells new events in its
     * thread. Idempotent across retries and worker crashes: never two messages for one release.
     */
    async publishReleaseMessage(request: PublishRequest): Promise<PublishResult> {
      const { slack } = deps;
      if (!slack) {
        throw ApplicationFailure.nonRetryable(
          'SLACK_BOT_TOKEN is not set where the worker runs; the release goes on without its Slack message',
          FailureType.SlackNotConfigured,
        );
      }
      const { text, blocks } = renderReleaseMessage(
        request.status,
        deps.temporalUiUrl,
        Context.current().info.workflowNamespace,
      );
      const channel = request.message?.channel ?? (await channelId(slack, request.channel));
      let message = request.message ?? (await postedBefore(slack, channel, request.releaseId));
      if (message) {
        await slack.chat.update({ channel: message.channel, ts: message.ts, text, blocks });
      } else {
        const posted = await slack.chat.postMessage({
          channel,
          text,
          blocks,
          metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { release_id: request.releaseId } },
          unfurl_links: false,
        });
        message = { channel: posted.channel ?? channel, ts: required(posted.ts, 'ts of the posted message') };
      }

      const retried = Context.current().info.attempt > 1;
      const posted = retried && request.events.length ? await threadSeqsPosted(slack, message) : new Set<number>();
      let postedUpTo = -1;
      for (const event of request.events) {
        postedUpTo = Math.max(postedUpTo, event.seq);
        if (!THREAD_KINDS.has(event.kind) || posted.has(event.seq)) continue;
        await slack.chat.postMessage({
          channel: message.channel,
          thread_ts: message.ts,
          text: `*${event.stage}* · ${escapeMrkdwn(event.message.slice(0, 2900))} · ${person(event.actor)}`,
          metadata: { event_type: EVENT_TYPE_THREAD, event_payload: { release_id: request.releaseId, seq: event.seq } },
        });
      }
      return { message, postedUpTo };
    },
  };
}
