/**
 * Expand: users.email_address becomes users.primary_email.
 *
 * The new column is added nullable (no table rewrite, no long lock), and a trigger keeps the two
 * columns in step while both versions run: the old version writes email_address, the new one
 * primary_email, and each sees the other's writes. Tollgate then backfills the rows written before
 * this migration, in small keyed batches.
 */
exports.phase = 'expand';

exports.backfill = {
  table: 'users',
  key: 'id',
  set: { primary_email: 'email_address' },
  batchSize: 500,
};

/** The new version no longer reads it: the contract migration may drop it. */
exports.deprecates = ['users.email_address'];

exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => table.text('primary_email'));
  await knex.raw(`
    CREATE OR REPLACE FUNCTION users_sync_email() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.primary_email := COALESCE(NEW.primary_email, NEW.email_address);
        NEW.email_address := COALESCE(NEW.email_address, NEW.primary_email);
      ELSIF NEW.primary_email IS DISTINCT FROM OLD.primary_email THEN
        NEW.email_address := NEW.primary_email;
      ELSIF NEW.email_address IS DISTINCT FROM OLD.email_address THEN
        NEW.primary_email := NEW.email_address;
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER users_sync_email BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_sync_email()`);
};

exports.down = async (knex) => {
  await knex.raw('DROP TRIGGER IF EXISTS users_sync_email ON users');
  await knex.raw('DROP FUNCTION IF EXISTS users_sync_email()');
  await knex.schema.alterTable('users', (table) => table.dropColumn('primary_email'));
};
