import type { Knex } from 'knex';

/**
 * Who decided, as the worker verified it (docs/security.md): the channel (cli, slack, api), the
 * trust (`verified` by a proof, `none` in local mode), and the identity provider's issuer and
 * subject, which stay the same when a person's email changes. Empty for decisions made before.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approvals', (table) => {
    table.text('channel');
    table.text('trust');
    table.text('issuer');
    table.text('subject');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approvals', (table) => {
    table.dropColumns('channel', 'trust', 'issuer', 'subject');
  });
}
