import crypto from 'node:crypto';

/** Slack's request signature: v0=HMAC-SHA256(signing secret, "v0:<timestamp>:<raw body>"). */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${crypto.createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedRequestOptions {
  secret: string;
  /** Seconds since the epoch; now by default. */
  timestamp?: number;
  /** Slack's retry counter header, as on a redelivery. */
  retryNum?: number;
  /** Sign one body, send another (an altered request). */
  sendBody?: string;
  signature?: string;
}

/** POSTs a form body to the app exactly as Slack would, and returns the status and the body. */
export async function postSignedToSlackApp(
  url: string,
  body: string,
  options: SignedRequestOptions,
): Promise<{ status: number; body: string; ms: number }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': options.signature ?? slackSignature(options.secret, timestamp, body),
      ...(options.retryNum
        ? { 'X-Slack-Retry-Num': String(options.retryNum), 'X-Slack-Retry-Reason': 'http_timeout' }
        : {}),
    },
    body: options.sendBody ?? body,
  });
  return { status: response.status, body: await response.text(), ms: Date.now() - started };
}

export function slashCommand(fields: {
  text: string;
  userId: string;
  userName: string;
  channelId: string;
  responseUrl: string;
  triggerId?: string;
}): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0TEST',
    team_domain: 'tollgate-test',
    channel_id: fields.channelId,
    channel_name: 'deploys',
    user_id: fields.userId,
    user_name: fields.userName,
    command: '/release',
    text: fields.text,
    api_app_id: 'A0TOLLGATE',
    response_url: fields.responseUrl,
    trigger_id: fields.triggerId ?? `${Date.now()}.trigger`,
  }).toString();
}

/** A click on a button of a message, as Slack posts it to the interactivity URL. */
export function buttonClick(fields: {
  actionId: string;
  value: string;
  userId: string;
  userName: string;
  channelId: string;
  messageTs: string;
  responseUrl: string;
}): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0TEST', domain: 'tollgate-test' },
    user: { id: fields.userId, username: fields.userName, name: fields.userName, team_id: 'T0TEST' },
    api_app_id: 'A0TOLLGATE',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: fields.messageTs, channel_id: fields.channelId, is_ephemeral: false },
    trigger_id: `${Date.now()}.trigger`,
    channel: { id: fields.channelId, name: 'deploys' },
    message: { type: 'message', ts: fields.messageTs, text: 'release' },
    response_url: fields.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'release_actions',
        value: fields.value,
        text: { type: 'plain_text', text: 'button' },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
