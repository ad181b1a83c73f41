import knex from 'knex';
import { startUnleash, type LocalUnleash } from '../../src/devstack/unleash';
import { testEnv } from './stack-env';

/** What Unleash's own evaluation (its frontend API, the one browser and OpenFeature web clients use) serves a user. */
export interface Evaluation {
  enabled: boolean;
  variant?: string;
}

interface FrontendAnswer {
  toggles: { name: string; variant?: { name: string; enabled: boolean } }[];
}

/**
 * A real Unleash server for a test file, on loopback, with its own database on the test
 * PostgreSQL: the test creates flags and segments through the Admin API and asks Unleash's own
 * evaluation API which users get a flag.
 */
export class FlagService {
  private constructor(
    readonly unleash: LocalUnleash,
    private readonly database: string,
  ) {}

  static async start(): Promise<FlagService> {
    const database = `unleash_test_${Date.now().toString(36)}`;
    const unleash = await startUnleash({ postgresUrl: testEnv('postgresAdminUrl'), database, frontendRefreshMs: 100 });
    return new FlagService(unleash, database);
  }

  get url(): string {
    return this.unleash.url;
  }

  async createFlag(name: string): Promise<void> {
    await this.admin('POST', '/projects/default/features', { name, type: 'release' });
  }

  async createSegment(name: string, constraints: unknown[]): Promise<number> {
    const answer = (await this.admin('POST', '/segments', { name, constraints })) as { id: number };
    return answer.id;
  }

  /** The flag in one environment, from the Admin API: on or off, and its strategies. */
  async state(flag: string, environment = 'production'): Promise<{ enabled: boolean; strategies: Strategy[] }> {
    const answer = (await this.admin('GET', `/projects/default/features/${flag}`)) as {
      environments: { name: string; enabled: boolean; strategies: Strategy[] }[];
    };
    const found = answer.environments.find((candidate) => candidate.name === environment);
    if (!found) throw new Error(`no environment ${environment} for ${flag}`);
    return { enabled: found.enabled, strategies: found.strategies };
  }

  async addStrategy(flag: string, strategy: Omit<Strategy, 'id'>, environment = 'production'): Promise<void> {
    await this.admin('POST', `/projects/default/features/${flag}/environments/${environment}/strategies`, strategy);
  }

  async turnOn(flag: string, environment = 'production'): Promise<void> {
    await this.admin('POST', `/projects/default/features/${flag}/environments/${environment}/on`);
  }

  /** Unleash's own evaluation of `flag` for each user (context: userId, plus `context` for segments). */
  async evaluate(
    flag: string,
    users: string[],
    context: Record<string, string> = {},
    environment: 'development' | 'production' = 'production',
  ): Promise<Map<string, Evaluation>> {
    const results = new Map<string, Evaluation>();
    const token = this.unleash.tokens.frontend[environment];
    const queue = [...users];
    const worker = async () => {
      for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
        const query = new URLSearchParams({ userId: user, ...context });
        const response = await fetch(`${this.url}/api/frontend?${query.toString()}`, {
          headers: { authorization: token },
        });
        if (!response.ok) throw new Error(`frontend API: HTTP ${response.status} ${await response.text()}`);
        const toggle = ((await response.json()) as FrontendAnswer).toggles.find((candidate) => candidate.name === flag);
        results.set(user, {
          enabled: Boolean(toggle),
          variant: toggle?.variant?.enabled ? toggle.variant.name : undefined,
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return results;
  }

  async stop(): Promise<void> {
    await this.unleash.stop();
    const admin = knex({ client: 'pg', connection: testEnv('postgresAdminUrl'), pool: { min: 0, max: 1 } });
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [this.database]);
    await admin.destroy();
  }

  private async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.url}/api/admin${path}`, {
      method,
      headers: { authorization: this.unleash.tokens.admin, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Unleash ${method} ${path}: HTTP ${response.status} ${text}`);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}

export interface Strategy {
  id: string;
  name: string;
  title?: string | null;
  parameters?: Record<string, unknown>;
  constraints?: unknown[];
  variants?: unknown[];
  segments?: number[];
  disabled?: boolean | null;
  sortOrder?: number | null;
}
