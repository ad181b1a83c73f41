import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMigrationFile } from '../../src/schema/migration-files';
import { renderMigrationSql } from '../../src/schema/migration-sql';
import { checkMigrationSafety } from '../../src/schema/safety-check';

/** The safety check on real knex migration files, parsed by PostgreSQL's own parser. No database. */
let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-safety-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

function migration(name: string, phase: 'expand' | 'contract', up: string, extra = '') {
  fs.writeFileSync(path.join(folder, name), `exports.phase = '${phase}';\n${extra}\nexports.up = async (knex) => { ${up} };\n`);
  return loadMigrationFile(folder, name);
}

async function findingsOf(phase: 'expand' | 'contract', up: string, extra = '', deprecated: string[] = []) {
  return checkMigrationSafety([migration('001_change.js', phase, up, extra)], { deprecated });
}

describe('the schema safety check refuses', () => {
  it.each([
    ['dropping a column in an expand', `await knex.schema.alterTable('users', (t) => t.dropColumn('email_address'))`, /drops column users\.email_address while the old version still runs/, /drop or rename the old one in a contract/],
    ['renaming a column in an expand', `await knex.schema.alterTable('users', (t) => t.renameColumn('email_address', 'primary_email'))`, /renames column users\.email_address/, /keep both in step/],
    ['renaming a table', `await knex.raw('ALTER TABLE users RENAME TO people')`, /renames table users/, /contract migration/],
    ['dropping a table', `await knex.schema.dropTable('sessions')`, /drops table sessions/, /contract migration/],
    ['changing a column type', `await knex.raw('ALTER TABLE users ALTER COLUMN id TYPE bigint')`, /changes the type of users\.id/, /add a column of the new type/],
    ['adding NOT NULL without a default', `await knex.schema.alterTable('users', (t) => t.text('nickname').notNullable())`, /NOT NULL without a default/, /add it nullable/],
    ['a volatile default', `await knex.raw('ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()')`, /volatile default gen_random_uuid\(\)/, /without a default/],
    ['SET NOT NULL', `await knex.raw('ALTER TABLE users ALTER COLUMN email_address SET NOT NULL')`, /scans the whole table/, /NOT VALID/],
    ['a plain CREATE INDEX', `await knex.schema.alterTable('users', (t) => t.index(['email_address']))`, /without CONCURRENTLY blocks writes/, /CREATE INDEX CONCURRENTLY IF NOT EXISTS/],
    ['a plain DROP INDEX', `await knex.raw('DROP INDEX users_email_idx')`, /DROP INDEX without CONCURRENTLY/, /DROP INDEX CONCURRENTLY/],
    ['CONCURRENTLY inside a transaction', `await knex.raw('CREATE INDEX CONCURRENTLY i ON users (email_address)')`, /cannot run inside a transaction/, /transaction: false/],
    ['a foreign key validated at once', `await knex.raw('ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)')`, /foreign key on orders that is validated at once/, /NOT VALID.*VALIDATE CONSTRAINT/],
    ['a check constraint validated at once', `await knex.raw('ALTER TABLE users ADD CONSTRAINT email_present CHECK (email_address IS NOT NULL)')`, /check constraint on users/, /NOT VALID/],
  ])('%s, naming the file, the statement and the fix', async (_, up, problem, fix) => {
    const findings = await findingsOf('expand', up);
    expect(findings).toHaveLength(1);
    expect(findings[0].file).toBe('001_change.js');
    expect(findings[0].statement.length).toBeGreaterThan(10);
    expect(findings[0].problem).toMatch(problem);
    expect(findings[0].fix).toMatch(fix);
  });

  it('a contract dropping a column no migration declared deprecated', async () => {
    const findings = await findingsOf('contract', `await knex.schema.alterTable('users', (t) => t.dropColumn('nickname'))`, '', ['users.email_address']);
    expect(findings.map((finding) => finding.problem)).toEqual([expect.stringMatching(/drops column users\.nickname, which no migration declared deprecated/)]);
    expect(findings[0].fix).toMatch(/deprecates: \['users\.nickname'\]/);
  });

  it('SQL PostgreSQL cannot parse', async () => {
    const findings = await findingsOf('expand', `await knex.raw('ALTER TABLE users ADD COLUMNN x text')`);
    expect(findings[0].problem).toMatch(/cannot parse/);
  });

  it('every unsafe statement of a raw string holding several, not only the first', async () => {
    const findings = await findingsOf('expand', `await knex.raw('CREATE INDEX a ON users (id); ALTER TABLE users DROP COLUMN x; SELECT 1')`);
    expect(findings.map((finding) => finding.statement)).toEqual(['CREATE INDEX a ON users (id)', 'ALTER TABLE users DROP COLUMN x']);
  });
});

describe('the schema safety check lets through', () => {
  it('the rename example: a nullable column and a plpgsql sync trigger, then a contract dropping what the expand deprecated', async () => {
    const examples = path.join(__dirname, '..', '..', 'examples', 'schema-rename', 'migrations');
    const files = fs.readdirSync(examples).map((name) => loadMigrationFile(examples, name));
    expect(await checkMigrationSafety(files)).toEqual([]);
  });

  it.each([
    ['CONCURRENTLY outside a transaction', `await knex.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON users (email_address)')`, 'exports.config = { transaction: false };'],
    ['a NOT VALID foreign key, validated later', `await knex.raw('ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID'); await knex.raw('ALTER TABLE orders VALIDATE CONSTRAINT fk')`, ''],
    ['a nullable column and a constant default', `await knex.schema.alterTable('users', (t) => { t.text('nickname'); t.boolean('active').notNullable().defaultTo(true); t.timestamp('seen_at').defaultTo(knex.fn.now()); })`, ''],
    ['indexes and constraints on a table created in the same file', `await knex.schema.createTable('audit', (t) => { t.increments('id'); t.integer('user_id').notNullable(); }); await knex.raw('CREATE INDEX audit_user ON audit (user_id)'); await knex.raw('ALTER TABLE audit ADD CONSTRAINT audit_fk FOREIGN KEY (user_id) REFERENCES users (id)')`, ''],
  ])('%s', async (_, up, extra) => {
    expect(await findingsOf('expand', up, extra)).toEqual([]);
  });
});

it('sees the SQL that knex would send for builder calls', async () => {
  const file = migration('001_add.js', 'expand', `await knex.schema.alterTable('users', (t) => { t.text('primary_email'); t.index(['primary_email']); })`);
  expect(await renderMigrationSql(file)).toEqual([
    'alter table "users" add column "primary_email" text',
    'create index "users_primary_email_index" on "users" ("primary_email")',
  ]);
});
