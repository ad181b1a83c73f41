/**
 * Contract: once every instance runs the new version, nothing reads email_address any more.
 * Tollgate runs this only after 100% traffic, the bake and an approval; after it, no rollback.
 */
exports.phase = 'contract';

exports.up = async (knex) => {
  await knex.raw('DROP TRIGGER IF EXISTS users_sync_email ON users');
  await knex.raw('DROP FUNCTION IF EXISTS users_sync_email()');
  await knex.schema.alterTable('users', (table) => table.dropColumn('email_address'));
};

/** Brings the column back for a fix-forward release; the data comes back from primary_email. */
exports.down = async (knex) => {
  await knex.schema.alterTable('users', (table) => table.text('email_address'));
  await knex.raw('UPDATE users SET email_address = primary_email');
};
