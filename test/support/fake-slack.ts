import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Slack's Web API, on loopback, for the tests only (Slack's servers are outside this machine). It
 * answers like Slack and refuses what Slack refuses: a wrong token, an unknown method, a missing
 * channel, text over Slack's limits, more than 50 blocks, Block Kit it does not know. Everything it
 * accepts is recorded, and messages are kept with their metadata, as Slack keeps them.
 */
export interface FakeMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: Block[];
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  updates: number;
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  response: Record<string, unknown>;
}

type Block = Record<string, unknown>;

export interface FakeSlackOptions {
  token: string;
  channels: { id: string; name: string }[];
  /** User groups: handle → member user ids. */
  groups?: Record<string, string[]>;
  /** The workspace's people (users.info); an email only where the app may read it (users:read.email). */
  users?: Record<string, { name: string; email?: string }>;
}

/** Limits as documented by Slack (api.slack.com/reference/block-kit, chat.postMessage). */
const LIMITS = {
  blocks: 50,
  modalBlocks: 100,
  text: 40_000,
  sectionText: 3000,
  field: 2000,
  fields: 10,
  header: 150,
  buttonText: 75,
  actionId: 255,
  value: 2000,
  blockId: 255,
  actions: 25,
  context: 10,
  options: 100,
  optionText: 75,
};
const METHODS = [
  'auth.test',
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'conversations.history',
  'conversations.replies',
  'conversations.list',
  'usergroups.list',
  'users.info',
  'views.open',
] as const;

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  /** What the app sent to response_urls, in order. */
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  private readonly server: http.Server;
  private clock = 1_700_000_000;
  private postGate?: Promise<void>;
  url = '';

  constructor(private readonly options: FakeSlackOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The Web API base URL to give the client (`slackApiUrl`). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  responseUrl(id: string): string {
    return `${this.url}/respond/${id}`;
  }

  /**
   * From now on, chat.postMessage stores the message at once but answers only when `release` is
   * called: a worker can die after Slack posted, before it learned the message's ts.
   */
  holdPostAnswers(): () => void {
    let release!: () => void;
    this.postGate = new Promise((resolve) => (release = resolve));
    return () => {
      this.postGate = undefined;
      release();
    };
  }

  topLevelMessages(channel?: string): FakeMessage[] {
    return this.messages.filter((message) => !message.thread_ts && (!channel || message.channel === channel));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => resolve(text));
    });
    const path = new URL(req.url ?? '/', this.url).pathname;
    if (path.startsWith('/respond/')) {
      this.responses.push({ id: path.slice('/respond/'.length), body: JSON.parse(body) });
      return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    }
    const method = path.replace(/^\/api\//, '');
    const args = parseArgs(req.headers['content-type'] ?? '', body);
    const token =
      (req.headers.authorization ?? '').replace(/^Bearer /, '') || (typeof args.token === 'string' ? args.token : '');
    let response: Record<string, unknown>;
    let status = 200;
    if (!(METHODS as readonly string[]).includes(method)) {
      response = { ok: false, error: 'unknown_method' };
      status = 404;
    } else if (token !== this.options.token) {
      response = { ok: false, error: 'invalid_auth' };
    } else {
      response = this.call(method as (typeof METHODS)[number], args);
      if (method === 'chat.postMessage' && response.ok && this.postGate) await this.postGate;
    }
    this.calls.push({ method, args, response });
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(response));
  }

  private channel(value: unknown): { id: string; name: string } | undefined {
    const wanted = (typeof value === 'string' ? value : '').replace(/^#/, '');
    return this.options.channels.find((channel) => channel.id === wanted || channel.name === wanted);
  }

  private call(method: (typeof METHODS)[number], args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://tollgate-test.slack.com/',
          team: 'Test',
          user: 'tollgate',
          team_id: 'T0TEST',
          user_id: 'U0BOT',
          bot_id: 'B0BOT',
        };
      case 'chat.postMessage':
      case 'chat.update': {
        const channel = this.channel(args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        const problem = messageProblem(args);
        if (problem) return { ok: false, error: problem.error, response_metadata: { messages: [problem.detail] } };
        if (method === 'chat.update') {
          const message = this.messages.find(
            (candidate) => candidate.channel === channel.id && candidate.ts === args.ts,
          );
          if (!message) return { ok: false, error: 'message_not_found' };
          Object.assign(message, { text: args.text, blocks: args.blocks, updates: message.updates + 1 });
          return { ok: true, channel: channel.id, ts: message.ts, text: args.text };
        }
        if (
          args.thread_ts &&
          !this.messages.some((candidate) => candidate.channel === channel.id && candidate.ts === args.thread_ts)
        ) {
          return { ok: false, error: 'thread_not_found' };
        }
        const message: FakeMessage = {
          channel: channel.id,
          ts: `${this.clock++}.000100`,
          text: args.text as string | undefined,
          blocks: args.blocks as Block[] | undefined,
          thread_ts: args.thread_ts as string | undefined,
          metadata: args.metadata as FakeMessage['metadata'],
          updates: 0,
        };
        this.messages.push(message);
        return { ok: true, channel: channel.id, ts: message.ts, message: { text: message.text, ts: message.ts } };
      }
      case 'chat.postEphemeral': {
        if (!this.channel(args.channel)) return { ok: false, error: 'channel_not_found' };
        if (!args.user) return { ok: false, error: 'user_not_found' };
        const problem = messageProblem(args);
        return problem ? { ok: false, error: problem.error } : { ok: true, message_ts: `${this.clock++}.000200` };
      }
      case 'conversations.history':
      case 'conversations.replies': {
        const channel = this.channel(args.channel);
        if (!channel || channel.id !== args.channel) return { ok: false, error: 'channel_not_found' };
        const withMetadata = String(args.include_all_metadata) === 'true';
        const messages = this.messages
          .filter((message) => message.channel === channel.id)
          .filter((message) =>
            method === 'conversations.history'
              ? !message.thread_ts
              : message.ts === args.ts || message.thread_ts === args.ts,
          )
          .map((message) => ({
            type: 'message',
            ts: message.ts,
            text: message.text,
            thread_ts: message.thread_ts,
            ...(withMetadata && message.metadata ? { metadata: message.metadata } : {}),
          }));
        return {
          ok: true,
          messages: method === 'conversations.history' ? messages.reverse() : messages,
          has_more: false,
        };
      }
      case 'conversations.list':
        return {
          ok: true,
          channels: this.options.channels.map((channel) => ({ id: channel.id, name: channel.name, is_member: true })),
          response_metadata: { next_cursor: '' },
        };
      case 'usergroups.list':
        return {
          ok: true,
          usergroups: Object.entries(this.options.groups ?? {}).map(([handle, users], index) => ({
            id: `S0${index}`,
            handle,
            ...(String(args.include_users) === 'true' ? { users } : {}),
          })),
        };
      case 'users.info': {
        // As Slack: the user argument is required, and an id it does not know is an error.
        if (typeof args.user !== 'string' || !args.user) return { ok: false, error: 'invalid_arguments' };
        const user = this.options.users?.[args.user];
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: args.user,
            team_id: 'T0TEST',
            name: user.name,
            deleted: false,
            is_bot: false,
            profile: { real_name: user.name, display_name: user.name, ...(user.email ? { email: user.email } : {}) },
          },
        };
      }
      case 'views.open': {
        if (!args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        const view = args.view as Block | undefined;
        const problem = view ? blocksProblem(view.blocks as Block[] | undefined, LIMITS.modalBlocks) : 'no view';
        return problem
          ? { ok: false, error: 'invalid_arguments', response_metadata: { messages: [problem] } }
          : { ok: true, view: { id: 'V0VIEW', ...view } };
      }
    }
  }
}

function parseArgs(contentType: string, body: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return JSON.parse(body || '{}');
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    // The Web API client sends objects and arrays as JSON inside form fields, as Slack expects.
    args[key] = ['blocks', 'metadata', 'view', 'attachments'].includes(key) ? JSON.parse(value) : value;
  }
  return args;
}

function messageProblem(args: Record<string, unknown>): { error: string; detail: string } | undefined {
  if (!args.text && !args.blocks) return { error: 'no_text', detail: 'text or blocks is required' };
  if (typeof args.text === 'string' && args.text.length > LIMITS.text)
    return { error: 'msg_too_long', detail: `text is ${args.text.length} characters` };
  if (args.blocks !== undefined) {
    if (!Array.isArray(args.blocks)) return { error: 'invalid_blocks_format', detail: 'blocks must be an array' };
    if (args.blocks.length > LIMITS.blocks)
      return { error: 'invalid_blocks', detail: `${args.blocks.length} blocks, at most ${LIMITS.blocks}` };
    const problem = blocksProblem(args.blocks as Block[], LIMITS.blocks);
    if (problem) return { error: 'invalid_blocks', detail: problem };
  }
  if (args.metadata !== undefined) {
    const metadata = args.metadata as Record<string, unknown>;
    if (typeof metadata.event_type !== 'string' || typeof metadata.event_payload !== 'object')
      return { error: 'invalid_metadata_format', detail: 'event_type and event_payload are required' };
  }
  return undefined;
}

/** Checks blocks as Slack's validator does for the types Tollgate uses; anything else is refused. */
export function blocksProblem(given: readonly object[] | undefined, max: number): string | undefined {
  if (!given) return 'blocks missing';
  const blocks = given as Block[];
  if (blocks.length > max) return `${blocks.length} blocks, at most ${max}`;
  const blockIds = new Set<string>();
  for (const [index, block] of blocks.entries()) {
    const where = `blocks[${index}] (${String(block.type)})`;
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string') return `${where}: block_id must be a string`;
      if (block.block_id.length > LIMITS.blockId) return `${where}: block_id too long`;
      if (blockIds.has(block.block_id)) return `${where}: duplicate block_id`;
      blockIds.add(block.block_id);
    }
    const problem = blockProblem(block);
    if (problem) return `${where}: ${problem}`;
  }
  return undefined;
}

function textProblem(text: unknown, limit: number, types: string[] = ['plain_text', 'mrkdwn']): string | undefined {
  const object = text as { type?: string; text?: string } | undefined;
  if (!object || typeof object.text !== 'string') return 'text object missing';
  if (!types.includes(String(object.type))) return `text type must be ${types.join(' or ')}`;
  if (object.text.length === 0) return 'text is empty';
  if (object.text.length > limit) return `text is ${object.text.length} characters, at most ${limit}`;
  return undefined;
}

function blockProblem(block: Block): string | undefined {
  switch (block.type) {
    case 'divider':
      return undefined;
    case 'header':
      return textProblem(block.text, LIMITS.header, ['plain_text']);
    case 'section': {
      if (!block.text && !block.fields) return 'a section needs text or fields';
      if (block.text) {
        const problem = textProblem(block.text, LIMITS.sectionText);
        if (problem) return problem;
      }
      const fields = (block.fields as unknown[] | undefined) ?? [];
      if (fields.length > LIMITS.fields) return `${fields.length} fields, at most ${LIMITS.fields}`;
      for (const field of fields) {
        const problem = textProblem(field, LIMITS.field);
        if (problem) return `field: ${problem}`;
      }
      return undefined;
    }
    case 'context': {
      const elements = (block.elements as Block[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > LIMITS.context)
        return `context needs 1 to ${LIMITS.context} elements`;
      for (const element of elements) {
        const problem = textProblem(element, LIMITS.field);
        if (problem) return `element: ${problem}`;
      }
      return undefined;
    }
    case 'actions': {
      const elements = (block.elements as Block[] | undefined) ?? [];
      if (elements.length === 0 || elements.length > LIMITS.actions)
        return `actions needs 1 to ${LIMITS.actions} elements`;
      const ids = new Set<string>();
      for (const element of elements) {
        const problem = elementProblem(element);
        if (problem) return problem;
        if (ids.has(String(element.action_id))) return `duplicate action_id ${String(element.action_id)}`;
        ids.add(String(element.action_id));
      }
      return undefined;
    }
    case 'input': {
      const label = textProblem(block.label, 2000, ['plain_text']);
      if (label) return `label: ${label}`;
      return elementProblem(block.element as Block);
    }
    default:
      return `unsupported block type ${String(block.type)}`;
  }
}

function elementProblem(element: Block | undefined): string | undefined {
  if (!element) return 'element missing';
  if (typeof element.action_id === 'string' && element.action_id.length > LIMITS.actionId) return 'action_id too long';
  switch (element.type) {
    case 'button': {
      const text = textProblem(element.text, LIMITS.buttonText, ['plain_text']);
      if (text) return `button text: ${text}`;
      if (typeof element.value === 'string' && element.value.length > LIMITS.value) return 'button value too long';
      if (
        element.style !== undefined &&
        (typeof element.style !== 'string' || !['primary', 'danger'].includes(element.style))
      )
        return `button style ${JSON.stringify(element.style)}`;
      return undefined;
    }
    case 'static_select': {
      const options = (element.options as Block[] | undefined) ?? [];
      if (options.length === 0 || options.length > LIMITS.options)
        return `static_select needs 1 to ${LIMITS.options} options`;
      for (const option of options) {
        const text = textProblem(option.text, LIMITS.optionText, ['plain_text']);
        if (text) return `option: ${text}`;
      }
      return undefined;
    }
    case 'plain_text_input':
      return undefined;
    default:
      return `unsupported element type ${String(element.type)}`;
  }
}
