import type { Client } from '@temporalio/client';
import type { WebClient } from '@slack/web-api';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { DecisionVerifier } from '../identity/decision-verifier';
import type { ProviderRegistry } from '../providers/registry';
import type { LaneFences } from '../fencing/lane-fences';
import type { RunningCommands } from '../fencing/running-commands';
import type { ServiceDatabases } from '../service-db/service-database';

/** Everything activities touch, passed in so tests can give real or recording parts. */
export interface ActivityDeps {
  /** Tollgate's own database (audit log). */
  db: Knex;
  /** For the lane: signal-with-start, and checking whether a release still runs. */
  temporal: Client;
  providers: ProviderRegistry;
  /** Connections to the services' own databases, for their schema migrations and backfills. */
  serviceDatabases: ServiceDatabases;
  log: Logger;
  /** The lanes' fencing tokens: stale attempts are refused before they start and when they write. */
  fences: LaneFences;
  /** Commands started for steps, so a retry, an undo or a new worker can stop what a dead worker left. */
  commands: RunningCommands;
  /** Slack's Web API, when SLACK_BOT_TOKEN is set: the releases' live messages. */
  slack?: WebClient;
  /** Checks who sent a decision before a workflow accepts it. */
  identity: DecisionVerifier;
  /** For links in messages. */
  temporalUiUrl?: string;
}
