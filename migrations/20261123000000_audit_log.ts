import type { Knex } from 'knex';

/** The audit log: one row per release, every transition as an event, every approval decision. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('releases', (table) => {
    table.text('release_id').primary();
    table.text('service').notNullable();
    table.text('environment').notNullable();
    table.text('version').notNullable();
    table.text('stable_version');
    table.text('commit_sha');
    table.timestamp('committed_at', { useTz: true });
    table.text('initiator').notNullable();
    table.text('strategy').notNullable();
    table.text('stage').notNullable();
    table.integer('attempt').notNullable().defaultTo(1);
    table.timestamp('requested_at', { useTz: true }).notNullable();
    table.timestamp('rollback_started_at', { useTz: true });
    table.timestamp('finished_at', { useTz: true });
    table.text('outcome');
    table.text('reason');
    // The highest event seq applied, so a late retry of an older batch never moves a row backwards.
    table.integer('last_seq').notNullable().defaultTo(-1);
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['service', 'environment', 'finished_at']);
  });
  await knex.raw(
    `ALTER TABLE releases ADD CONSTRAINT releases_outcome_check CHECK (outcome IN ('Succeeded', 'RolledBack', 'Failed'))`,
  );

  await knex.schema.createTable('release_events', (table) => {
    table.text('release_id').notNullable().references('release_id').inTable('releases').onDelete('CASCADE');
    table.integer('seq').notNullable();
    table.timestamp('at', { useTz: true }).notNullable();
    table.text('stage').notNullable();
    table.text('kind').notNullable();
    table.text('actor').notNullable();
    table.text('message').notNullable();
    table.jsonb('data');
    // The workflow numbers its events; a retried write of the same event is the same row.
    table.primary(['release_id', 'seq']);
  });

  await knex.schema.createTable('approvals', (table) => {
    table.text('release_id').notNullable().references('release_id').inTable('releases').onDelete('CASCADE');
    table.integer('seq').notNullable();
    table.text('step').notNullable();
    table.text('approver').notNullable();
    table.text('decision').notNullable();
    table.text('comment');
    table.timestamp('at', { useTz: true }).notNullable();
    table.primary(['release_id', 'seq']);
  });
  await knex.raw(
    `ALTER TABLE approvals ADD CONSTRAINT approvals_decision_check CHECK (decision IN ('approved', 'rejected'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('approvals');
  await knex.schema.dropTable('release_events');
  await knex.schema.dropTable('releases');
}
