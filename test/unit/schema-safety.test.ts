import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MigrationPhase } from '../../src/domain/migration-plan';
import { loadMigrationFile, type MigrationFile } from '../../src/service-db/migration-files';
import { renderMigrationSql } from '../../src/service-db/migration-sql';
import { checkMigrationSafety } from '../../src/service-db/safety-check';

/**
 * The safety check on real knex migration modules written to a temporary folder: knex compiles them
 * for PostgreSQL without a database, and PostgreSQL's own parser reads the result.
 */

interface MigrationSource {
  phase: MigrationPhase;
  /** The body of `exports.up = async (knex) => { ... }`. */
  up: string;
  /** More exports, e.g. "exports.config = { transaction: false };". */
  exports?: string;
}

const NOT_TRANSACTIONAL = 'exports.config = { transaction: false };';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-safety-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

function writeMigration(name: string, source: MigrationSource): MigrationFile {
  const text = [
    `exports.phase = '${source.phase}';`,
    source.exports ?? '',
    `exports.up = async (knex) => {\n${source.up}\n};`,
  ].join('\n');
  fs.writeFileSync(path.join(folder, name), text);
  return loadMigrationFile(folder, name);
}

async function check(source: MigrationSource, deprecated: string[] = []) {
  return checkMigrationSafety([writeMigration('20261101000000_change.js', source)], { deprecated });
}

describe('renderMigrationSql', () => {
  it('returns the SQL knex would send for schema builder calls, without a database', async () => {
    const file = writeMigration('001_add.js', {
      phase: 'expand',
      up: `await knex.schema.alterTable('users', (t) => { t.text('primary_email'); t.index(['primary_email']); t.renameColumn('name', 'full_name'); });`,
    });
    expect(await renderMigrationSql(file)).toEqual([
      'alter table "users" add column "primary_email" text',
      'create index "users_primary_email_index" on "users" ("primary_email")',
      'alter table "users" rename "name" to "full_name"',
    ]);
  });

  it('splits a raw string into its statements with the parser, and inlines bindings', async () => {
    const file = writeMigration('001_raw.js', {
      phase: 'expand',
      up: [
        `await knex.raw("UPDATE users SET note = 'café'; CREATE INDEX i ON users (a);");`,
        `await knex.schema.raw('ALTER TABLE ?? ADD COLUMN ?? text', ['users', 'nickname']);`,
        `await knex('users').update({ nickname: "O'Brien" }).where('id', '<', 10);`,
        // An escaped question mark is PostgreSQL's jsonb operator, not a binding.
        `await knex.raw("UPDATE users SET flags = flags - 'beta' WHERE flags \\\\? 'beta' AND id = ?", [7]);`,
      ].join('\n'),
    });
    expect(await renderMigrationSql(file)).toEqual([
      "UPDATE users SET note = 'café'",
      'CREATE INDEX i ON users (a)',
      'ALTER TABLE "users" ADD COLUMN "nickname" text',
      `update "users" set "nickname" = 'O''Brien' where "id" < 10`,
      "UPDATE users SET flags = flags - 'beta' WHERE flags ? 'beta' AND id = 7",
    ]);
  });

  it('runs a migration outside a transaction when it says so, and renders down() on request', async () => {
    const file = writeMigration('001_concurrently.js', {
      phase: 'expand',
      exports: `${NOT_TRANSACTIONAL}\nexports.down = (knex) => knex.raw('DROP INDEX CONCURRENTLY IF EXISTS i');`,
      up: `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a)');`,
    });
    expect(await renderMigrationSql(file)).toEqual(['CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (a)']);
    expect(await renderMigrationSql(file, 'down')).toEqual(['DROP INDEX CONCURRENTLY IF EXISTS i']);
  });
});

interface RuleCase {
  unsafe: MigrationSource;
  /** The statement the finding must quote. */
  statement: string;
  problem: RegExp;
  fix: RegExp;
  /** The same change done the safe way: no finding. */
  safe: MigrationSource;
  deprecated?: string[];
}

const RULES: [string, RuleCase][] = [
  [
    'dropping a column in an expand',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.dropColumn('email_address'));` },
      statement: 'alter table "users" drop column "email_address"',
      problem: /drops column users\.email_address while the old version still runs/,
      fix: /keep both in step .* backfill, and drop the old one in a contract migration/,
      safe: { phase: 'contract', up: `await knex.schema.alterTable('users', (t) => t.dropColumn('email_address'));` },
      deprecated: ['users.email_address'],
    },
  ],
  [
    'renaming a column in an expand',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('users', (t) => t.renameColumn('email_address', 'primary_email'));`,
      },
      statement: 'alter table "users" rename "email_address" to "primary_email"',
      problem: /renames column users\.email_address while the old version still runs/,
      fix: /add the new column or table, keep both in step/,
      safe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.text('primary_email'));` },
    },
  ],
  [
    'renaming a table in an expand',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.renameTable('users', 'people');` },
      statement: 'alter table "users" rename to "people"',
      problem: /renames table users/,
      fix: /contract migration/,
      safe: { phase: 'contract', up: `await knex.schema.renameTable('users', 'people');` },
      deprecated: ['users'],
    },
  ],
  [
    'dropping a table in an expand',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.dropTable('sessions');` },
      statement: 'drop table "sessions"',
      problem: /drops table sessions while the old version still runs/,
      fix: /contract migration/,
      safe: { phase: 'contract', up: `await knex.schema.dropTable('sessions');` },
      deprecated: ['sessions'],
    },
  ],
  [
    'a contract dropping a column no migration declared deprecated',
    {
      unsafe: { phase: 'contract', up: `await knex.schema.alterTable('users', (t) => t.dropColumn('nickname'));` },
      statement: 'alter table "users" drop column "nickname"',
      problem:
        /drops column users\.nickname, which no migration declared deprecated: the running version may still read users\.nickname/,
      fix: /declare it in `exports\.deprecates` of the expand migration that replaces it \(deprecates: \['users\.nickname'\]\)/,
      safe: { phase: 'contract', up: `await knex.schema.alterTable('users', (t) => t.dropColumn('email_address'));` },
      deprecated: ['users.email_address'],
    },
  ],
  [
    'changing a column type',
    {
      unsafe: { phase: 'contract', up: `await knex.raw('ALTER TABLE users ALTER COLUMN id TYPE bigint');` },
      statement: 'ALTER TABLE users ALTER COLUMN id TYPE bigint',
      problem: /changes the type of users\.id: PostgreSQL rewrites the table/,
      fix: /add a column of the new type, keep both in step .* backfill it/,
      safe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.bigInteger('id_bigint'));` },
    },
  ],
  [
    'adding a NOT NULL column without a default',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('users', (t) => t.text('nickname').notNullable());`,
      },
      statement: 'alter table "users" add column "nickname" text not null',
      problem: /adds users\.nickname NOT NULL without a default: it fails on a table that has rows/,
      fix: /add it nullable \(or with a constant default\), backfill it/,
      safe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('users', (t) => { t.text('nickname'); t.boolean('active').notNullable().defaultTo(true); });`,
      },
    },
  ],
  [
    'adding a column with a volatile default',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('users', (t) => t.uuid('token').defaultTo(knex.fn.uuid()));`,
      },
      statement: 'alter table "users" add column "token" uuid default (gen_random_uuid())',
      problem: /adds users\.token with the volatile default gen_random_uuid\(\) .*rewrites every row of users/,
      fix: /add the column nullable without a default \(or with a constant one\), set the default in a second statement .* backfill/,
      // now() is stable: PostgreSQL evaluates it once and stores it, with no rewrite.
      safe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('users', (t) => { t.timestamp('seen_at').notNullable().defaultTo(knex.fn.now()); t.text('plan').defaultTo('free'); });`,
      },
    },
  ],
  [
    'adding a serial column',
    {
      unsafe: { phase: 'expand', up: `await knex.raw('ALTER TABLE events ADD COLUMN seq bigserial');` },
      statement: 'ALTER TABLE events ADD COLUMN seq bigserial',
      problem: /adds events\.seq as bigserial .*rewrites every row/,
      fix: /backfill existing rows in batches/,
      safe: { phase: 'expand', up: `await knex.raw('ALTER TABLE events ADD COLUMN seq bigint');` },
    },
  ],
  [
    'SET NOT NULL on an existing column',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.dropNullable('email_address'));` },
      statement: 'alter table "users" alter column "email_address" set not null',
      problem: /SET NOT NULL on users\.email_address scans the whole table under an exclusive lock/,
      fix: /CHECK \(email_address IS NOT NULL\) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL/,
      safe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE users ADD CONSTRAINT email_present CHECK (email_address IS NOT NULL) NOT VALID');`,
      },
    },
  ],
  [
    'CREATE INDEX without CONCURRENTLY',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.index(['email_address']));` },
      statement: 'create index "users_email_address_index" on "users" ("email_address")',
      problem: /CREATE INDEX on users without CONCURRENTLY blocks writes/,
      fix: /CREATE INDEX CONCURRENTLY IF NOT EXISTS .* in a migration with `exports\.config = \{ transaction: false \}`/,
      safe: {
        phase: 'expand',
        exports: NOT_TRANSACTIONAL,
        up: `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email_address)');`,
      },
    },
  ],
  [
    'DROP INDEX without CONCURRENTLY',
    {
      unsafe: {
        phase: 'contract',
        up: `await knex.schema.alterTable('users', (t) => t.dropIndex(['email_address']));`,
      },
      statement: 'drop index "users_email_address_index"',
      problem: /DROP INDEX without CONCURRENTLY takes an exclusive lock/,
      fix: /DROP INDEX CONCURRENTLY IF EXISTS, in a migration with `exports\.config = \{ transaction: false \}`/,
      safe: {
        phase: 'contract',
        exports: NOT_TRANSACTIONAL,
        up: `await knex.raw('DROP INDEX CONCURRENTLY IF EXISTS users_email_address_index');`,
      },
    },
  ],
  [
    'CONCURRENTLY inside a transactional migration',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.raw('CREATE INDEX CONCURRENTLY users_email ON users (email_address)');`,
      },
      statement: 'CREATE INDEX CONCURRENTLY users_email ON users (email_address)',
      problem: /CONCURRENTLY cannot run inside a transaction, and knex runs this migration in one/,
      fix: /add `exports\.config = \{ transaction: false \};` to this migration/,
      safe: {
        phase: 'expand',
        exports: NOT_TRANSACTIONAL,
        up: `await knex.raw('CREATE INDEX CONCURRENTLY users_email ON users (email_address)');`,
      },
    },
  ],
  [
    'a foreign key validated at once',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.schema.alterTable('orders', (t) => t.foreign('user_id').references('users.id'));`,
      },
      statement:
        'alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id")',
      problem: /adds a foreign key on orders that is validated at once/,
      fix: /add it NOT VALID .* then ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_foreign in a later migration/,
      safe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID');`,
      },
    },
  ],
  [
    'a check constraint validated at once',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0)');`,
      },
      statement: 'ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0)',
      problem: /adds a check constraint on orders that is validated at once/,
      fix: /NOT VALID .* VALIDATE CONSTRAINT positive in a later migration/,
      safe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID');`,
      },
    },
  ],
  [
    'VALIDATE in the same transaction as the NOT VALID constraint it checks',
    {
      unsafe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID'); await knex.raw('ALTER TABLE orders VALIDATE CONSTRAINT positive');`,
      },
      statement: 'ALTER TABLE orders VALIDATE CONSTRAINT positive',
      problem: /validates orders\.positive in the same transaction that added it NOT VALID/,
      fix: /move VALIDATE CONSTRAINT to a later migration/,
      safe: {
        phase: 'expand',
        exports: NOT_TRANSACTIONAL,
        up: `await knex.raw('ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID'); await knex.raw('ALTER TABLE orders VALIDATE CONSTRAINT positive');`,
      },
    },
  ],
  [
    'a unique constraint building its index under lock',
    {
      unsafe: { phase: 'expand', up: `await knex.schema.alterTable('users', (t) => t.unique(['email_address']));` },
      statement: 'alter table "users" add constraint "users_email_address_unique" unique ("email_address")',
      problem: /adds a UNIQUE constraint on users, building its index while writes are blocked/,
      fix: /CREATE UNIQUE INDEX CONCURRENTLY .* ADD CONSTRAINT \.\.\. UNIQUE USING INDEX/,
      safe: {
        phase: 'expand',
        up: `await knex.raw('ALTER TABLE users ADD CONSTRAINT users_email_unique UNIQUE USING INDEX users_email_unique');`,
      },
    },
  ],
];

describe.each(RULES)('the safety check on %s', (_, rule) => {
  it('finds it, naming the file, the phase, the statement and the fix', async () => {
    const findings = await check(rule.unsafe);
    expect(findings).toEqual([
      {
        file: '20261101000000_change.js',
        phase: rule.unsafe.phase,
        statement: rule.statement,
        problem: expect.stringMatching(rule.problem),
        fix: expect.stringMatching(rule.fix),
      },
    ]);
  });

  it('lets the safe form through', async () => {
    expect(await check(rule.safe, rule.deprecated)).toEqual([]);
  });
});

describe('the safety check', () => {
  it('exempts a table created earlier in the same file: it is new and empty', async () => {
    const findings = await check({
      phase: 'expand',
      up: `
        await knex.schema.createTable('audit', (t) => { t.increments('id'); t.integer('user_id'); t.text('kind'); });
        await knex.schema.alterTable('audit', (t) => { t.index(['user_id']); t.foreign('user_id').references('users.id'); t.unique(['kind']); });
        await knex.raw('ALTER TABLE audit ALTER COLUMN kind SET NOT NULL');
        await knex.raw("ALTER TABLE audit ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()");`,
    });
    expect(findings).toEqual([]);
  });

  it('finds a foreign key or check written inline on a new column, which is checked against every existing row', async () => {
    const findings = await check({
      phase: 'expand',
      up: `await knex.raw('ALTER TABLE orders ADD COLUMN coupon_id int REFERENCES coupons (id), ADD COLUMN discount int CHECK (discount >= 0)');`,
    });
    expect(findings.map((finding) => finding.problem)).toEqual([
      expect.stringMatching(/adds orders\.coupon_id with an inline foreign key/),
      expect.stringMatching(/adds orders\.discount with an inline check constraint/),
    ]);
    expect(findings[0].fix).toMatch(/add the column alone, then ALTER TABLE orders ADD CONSTRAINT \.\.\. NOT VALID/);
  });

  it('finds identity and stored generated columns, which fill every existing row', async () => {
    const findings = await check({
      phase: 'expand',
      up: `await knex.raw('ALTER TABLE events ADD COLUMN n bigint GENERATED BY DEFAULT AS IDENTITY, ADD COLUMN day date GENERATED ALWAYS AS (created_at::date) STORED');`,
    });
    expect(findings.map((finding) => finding.problem)).toEqual([
      expect.stringMatching(/adds events\.n as an identity column .*rewrites every row/),
      expect.stringMatching(/adds events\.day as a stored generated column .*rewrites every row/),
    ]);
  });

  it('does not exempt CREATE TABLE IF NOT EXISTS, which may find an old table full of rows', async () => {
    const findings = await check({
      phase: 'expand',
      up: `await knex.raw('CREATE TABLE IF NOT EXISTS audit (id int)'); await knex.raw('CREATE INDEX audit_id ON audit (id)');`,
    });
    expect(findings.map((finding) => finding.statement)).toEqual(['CREATE INDEX audit_id ON audit (id)']);
  });

  it('lets a typical rename through: a nullable column, a plpgsql sync trigger, a backfill, then a contract dropping what the expand deprecated', async () => {
    const expand = writeMigration('20261101000000_add_primary_email.js', {
      phase: 'expand',
      exports: `exports.deprecates = ['users.email_address'];
exports.backfill = { table: 'users', key: 'id', set: { primary_email: 'email_address' } };`,
      up: `
  await knex.schema.alterTable('users', (table) => table.text('primary_email'));
  await knex.raw(\`
    CREATE OR REPLACE FUNCTION users_sync_email() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.primary_email := COALESCE(NEW.primary_email, NEW.email_address);
        NEW.email_address := COALESCE(NEW.email_address, NEW.primary_email);
      ELSIF NEW.primary_email IS DISTINCT FROM OLD.primary_email THEN
        NEW.email_address := NEW.primary_email;
      ELSE
        NEW.primary_email := NEW.email_address;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER users_sync_email BEFORE INSERT OR UPDATE ON users
      FOR EACH ROW EXECUTE FUNCTION users_sync_email();\`);`,
    });
    const contract = writeMigration('20261101000100_drop_email_address.js', {
      phase: 'contract',
      up: `
  await knex.raw('DROP TRIGGER IF EXISTS users_sync_email ON users; DROP FUNCTION IF EXISTS users_sync_email()');
  await knex.schema.alterTable('users', (table) => table.dropColumn('email_address'));`,
    });
    expect(await renderMigrationSql(expand)).toHaveLength(3);
    expect(await checkMigrationSafety([expand, contract])).toEqual([]);
  });

  it('finds every unsafe statement of a raw string holding several, in order', async () => {
    const findings = await check({
      phase: 'expand',
      up: `await knex.raw('CREATE INDEX a ON users (id); SELECT 1; ALTER TABLE users DROP COLUMN x;');`,
    });
    expect(findings.map((finding) => finding.statement)).toEqual([
      'CREATE INDEX a ON users (id)',
      'ALTER TABLE users DROP COLUMN x',
    ]);
  });

  it('reports a statement PostgreSQL cannot parse, with the parser message', async () => {
    const findings = await check({
      phase: 'expand',
      up: `await knex.raw('ALTER TABLE users ADD COLUMNN nickname text');`,
    });
    expect(findings).toEqual([
      {
        file: '20261101000000_change.js',
        phase: 'expand',
        statement: 'ALTER TABLE users ADD COLUMNN nickname text',
        problem: expect.stringMatching(
          /PostgreSQL cannot parse it: syntax error at or near "text" \(at character \d+\)/,
        ),
        fix: expect.stringMatching(/fix the SQL/),
      },
    ]);
  });

  it('reports a migration whose up() fails without a database', async () => {
    const findings = await check({ phase: 'expand', up: `throw new Error('needs a connection string');` });
    expect(findings).toEqual([
      expect.objectContaining({ statement: 'up(knex)', problem: expect.stringMatching(/needs a connection string/) }),
    ]);
  });

  it('orders findings by file, then by statement', async () => {
    const later = writeMigration('002_later.js', {
      phase: 'expand',
      up: `await knex.raw('DROP TABLE b; DROP TABLE a');`,
    });
    const earlier = writeMigration('001_earlier.js', { phase: 'expand', up: `await knex.raw('DROP TABLE c');` });
    const findings = await checkMigrationSafety([later, earlier]);
    expect(findings.map(({ file, statement }) => `${file}: ${statement}`)).toEqual([
      '001_earlier.js: DROP TABLE c',
      '002_later.js: DROP TABLE b',
      '002_later.js: DROP TABLE a',
    ]);
  });

  it('takes deprecations from any file given and from options, schema-qualified or not', async () => {
    const expand = writeMigration('001_expand.js', {
      phase: 'expand',
      exports: `exports.deprecates = ['users.email_address'];`,
      up: '',
    });
    const contract = writeMigration('002_contract.js', {
      phase: 'contract',
      up: `await knex.raw('ALTER TABLE public.users DROP COLUMN email_address; DROP TABLE sessions; DROP TABLE tokens');`,
    });
    const findings = await checkMigrationSafety([expand, contract], { deprecated: ['sessions'] });
    expect(findings.map((finding) => finding.statement)).toEqual(['DROP TABLE tokens']);
  });
});
