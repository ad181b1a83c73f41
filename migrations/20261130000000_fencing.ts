import type { Knex } from 'knex';

/**
 * Fencing (docs/architecture.md, "What survives what"):
 * - lane_fences: per lane, the epoch handed to the newest release and the newest fencing token
 *   that wrote; Tollgate's routers refuse a write with an older token.
 * - fence_refusals: every write refused as stale, for the audit.
 * - running_commands: every command Tollgate started for a step, until it exits, so a retry, a
 *   compensation or a new worker on the same host can find and stop what a dead worker left.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lane_fences', (table) => {
    table.text('lane_id').primary();
    table.bigInteger('epoch').notNullable().defaultTo(0);
    table.bigInteger('token').notNullable().defaultTo(0);
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('fence_refusals', (table) => {
    table.bigIncrements('id');
    table.text('lane_id').notNullable();
    table.text('release_id').notNullable();
    table.text('step_id').notNullable();
    table.integer('attempt').notNullable();
    table.bigInteger('token').notNullable();
    table.bigInteger('newer_token').notNullable();
    table.text('writer').notNullable();
    table.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['release_id']);
  });
  await knex.schema.createTable('running_commands', (table) => {
    table.bigIncrements('id');
    table.text('release_id').notNullable();
    table.text('step_id').notNullable();
    table.integer('attempt').notNullable();
    table.boolean('compensating').notNullable();
    table.text('host').notNullable();
    // Identifies the boot: pids are only meaningful within one.
    table.text('boot_id').notNullable();
    table.integer('worker_pid').notNullable();
    table.integer('pgid').notNullable();
    // The process's start time in clock ticks since boot (/proc/<pid>/stat), so a reused pid is never mistaken for it.
    table.text('start_ticks').notNullable();
    table.text('label').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['host', 'release_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('running_commands');
  await knex.schema.dropTable('fence_refusals');
  await knex.schema.dropTable('lane_fences');
}
