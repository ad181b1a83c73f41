import {
  parse,
  type AlterTableCmd,
  type ColumnDef,
  type Constraint,
  type Node,
  type ParseResult,
  type RangeVar,
  type SqlError,
} from 'libpg-query';
import type { SafetyFinding } from '../domain/migration-plan';
import type { MigrationFile } from './migration-files';
import { renderMigrationSql } from './migration-sql';

/**
 * The pre-release safety check: the SQL each pending migration would send, parsed by PostgreSQL's
 * own parser (libpg-query), against rules that keep live traffic flowing and keep the version that
 * is still running working. Each finding names the file, the statement and the safe way to do the
 * same thing.
 */
export interface SafetyCheckOptions {
  /** "table.column" or "table" that migrations already applied declared the new version no longer reads. */
  deprecated?: string[];
}

/**
 * Functions whose value changes from row to row (pg_proc.provolatile = 'v'): as a column DEFAULT they
 * make PostgreSQL compute it for every existing row, rewriting the table. Stable functions such as
 * now(), statement_timestamp() or txid_current() are evaluated once and cost nothing.
 */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuidv4',
  'uuidv7',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'currval',
  'lastval',
  'setval',
]);

/** Column types that are shorthand for a sequence default, so adding one fills every row. */
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

/** Longest statement a finding quotes; the file holds the rest. */
const STATEMENT_SHOWN = 200;

/** What a rule says about one statement; the check adds the file, phase and statement. */
type Problem = Pick<SafetyFinding, 'problem' | 'fix'>;

/** What the rules know about the file a statement comes from, built up statement by statement. */
interface FileContext {
  file: MigrationFile;
  /** Lower-cased "table.column" and "table" names declared deprecated by any migration. */
  deprecated: ReadonlySet<string>;
  /** Tables created earlier in this file: new and empty, so nothing done to them can hurt traffic. */
  createdTables: Set<string>;
  /** Constraints added NOT VALID earlier in this file, as "table.constraint". */
  unvalidatedConstraints: Set<string>;
}

/** A rule reads one parsed statement and returns what is unsafe about it (usually nothing). */
type Rule = (statement: Node, context: FileContext) => Problem[];

export async function checkMigrationSafety(
  files: MigrationFile[],
  options: SafetyCheckOptions = {},
): Promise<SafetyFinding[]> {
  const declared = [...(options.deprecated ?? []), ...files.flatMap((file) => file.deprecates)];
  const deprecated = new Set(declared.map(normalizeName));
  const findings: SafetyFinding[] = [];
  for (const file of files) findings.push(...(await checkFile(file, deprecated)));
  // Stable: within a file, findings keep the order of the statements.
  return findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

async function checkFile(file: MigrationFile, deprecated: ReadonlySet<string>): Promise<SafetyFinding[]> {
  const finding = (statement: string, problem: Problem): SafetyFinding => ({
    file: file.name,
    phase: file.phase,
    statement: shorten(statement),
    ...problem,
  });
  let statements: string[];
  try {
    statements = await renderMigrationSql(file);
  } catch (err) {
    return [
      finding('up(knex)', {
        problem: `running up() without a database to see its SQL failed: ${(err as Error).message}`,
        fix: 'make up(knex) build its statements without depending on rows it reads',
      }),
    ];
  }
  const context: FileContext = { file, deprecated, createdTables: new Set(), unvalidatedConstraints: new Set() };
  const findings: SafetyFinding[] = [];
  for (const statement of statements) {
    let tree: ParseResult;
    try {
      tree = (await parse(statement)) as ParseResult;
    } catch (err) {
      findings.push(finding(statement, parseProblem(err as SqlError)));
      continue;
    }
    for (const { stmt } of tree.stmts ?? []) {
      if (!stmt) continue;
      for (const rule of RULES) findings.push(...rule(stmt, context).map((problem) => finding(statement, problem)));
      remember(stmt, context);
    }
  }
  return findings;
}

function parseProblem(err: SqlError): Problem {
  const position = err.sqlDetails?.cursorPosition;
  return {
    problem: `PostgreSQL cannot parse it: ${err.message}${position !== undefined ? ` (at character ${position + 1})` : ''}`,
    fix: 'fix the SQL: the release would fail on this statement',
  };
}

/** Records what later statements of the same file are judged by. */
function remember(statement: Node, context: FileContext): void {
  // CREATE TABLE IF NOT EXISTS may find an old table full of rows, so only a plain CREATE counts.
  if ('CreateStmt' in statement && statement.CreateStmt.relation && !statement.CreateStmt.if_not_exists) {
    context.createdTables.add(normalizeName(tableName(statement.CreateStmt.relation)));
  }
  if (
    'CreateTableAsStmt' in statement &&
    statement.CreateTableAsStmt.into?.rel &&
    !statement.CreateTableAsStmt.if_not_exists
  ) {
    context.createdTables.add(normalizeName(tableName(statement.CreateTableAsStmt.into.rel)));
  }
  for (const { table, cmd } of alterCommands(statement, context)) {
    const constraint = cmd.subtype === 'AT_AddConstraint' ? constraintOf(cmd.def) : undefined;
    if (constraint?.skip_validation && constraint.conname) {
      context.unvalidatedConstraints.add(normalizeName(`${table}.${constraint.conname}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The rules

/** Expand: the old version still runs and reads what this drops or renames. */
const removalInExpand: Rule = (statement, context) =>
  context.file.phase !== 'expand'
    ? []
    : removals(statement, context).map(({ description }) => ({
        problem: `${description} while the old version still runs and reads it`,
        fix: 'add the new column or table, keep both in step (a trigger or dual writes), backfill, and drop the old one in a contract migration',
      }));

/** Contract: the version now running may still read anything no expand declared deprecated. */
const undeclaredRemovalInContract: Rule = (statement, context) => {
  if (context.file.phase !== 'contract') return [];
  return removals(statement, context)
    .filter(({ names }) => !names.some((name) => context.deprecated.has(normalizeName(name))))
    .map(({ description, names }) => ({
      problem: `${description}, which no migration declared deprecated: the running version may still read ${names[0]}`,
      fix: `declare it in \`exports.deprecates\` of the expand migration that replaces it (deprecates: ['${names[0]}'])`,
    }));
};

/** Any phase: most type changes rewrite the table, and the old version may not read the new type. */
const columnTypeChange: Rule = (statement, context) =>
  alterCommands(statement, context)
    .filter(({ cmd }) => cmd.subtype === 'AT_AlterColumnType')
    .map(({ table, cmd }) => ({
      problem: `changes the type of ${table}.${cmd.name}: PostgreSQL rewrites the table under an exclusive lock, and the old version may not read the new type`,
      fix: 'add a column of the new type, keep both in step (a trigger or dual writes), backfill it, switch readers, and drop the old column in a contract migration',
    }));

/** A column that needs a value computed per existing row makes PostgreSQL rewrite the whole table. */
const addColumnRewritingTable: Rule = (statement, context) =>
  addedColumns(statement, context).flatMap(({ table, column }) => {
    const reason = rewriteReason(column);
    if (!reason) return [];
    return [
      {
        problem: `adds ${table}.${column.colname} ${reason}: PostgreSQL rewrites every row of ${table} under an exclusive lock, blocking reads and writes`,
        fix: 'add the column nullable without a default (or with a constant one), set the default in a second statement (it applies to new rows only), and backfill existing rows in batches',
      },
    ];
  });

/** NOT NULL without a default fails on a table with rows, and the old version's inserts omit the column. */
const addColumnNotNullWithoutDefault: Rule = (statement, context) =>
  addedColumns(statement, context).flatMap(({ table, column }) => {
    const kinds = columnConstraints(column).map((constraint) => constraint.contype);
    const notNull = column.is_not_null || kinds.includes('CONSTR_NOTNULL') || kinds.includes('CONSTR_PRIMARY');
    if (!notNull || kinds.includes('CONSTR_DEFAULT') || rewriteReason(column)) return [];
    return [
      {
        problem: `adds ${table}.${column.colname} NOT NULL without a default: it fails on a table that has rows, and the old version's inserts (which do not set it) would fail`,
        fix: 'add it nullable (or with a constant default), backfill it, then add NOT NULL through a CHECK (... IS NOT NULL) NOT VALID constraint validated in a later migration',
      },
    ];
  });

/** SET NOT NULL scans the table while holding a lock that blocks reads and writes. */
const setNotNull: Rule = (statement, context) =>
  alterCommands(statement, context)
    .filter(({ cmd }) => cmd.subtype === 'AT_SetNotNull')
    .map(({ table, cmd }) => ({
      problem: `SET NOT NULL on ${table}.${cmd.name} scans the whole table under an exclusive lock`,
      fix: `ALTER TABLE ${table} ADD CONSTRAINT ${cmd.name}_not_null CHECK (${cmd.name} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL (PostgreSQL sees the valid check and skips the scan)`,
    }));

/** Building or dropping an index without CONCURRENTLY blocks writes for as long as it takes. */
const indexWithoutConcurrently: Rule = (statement, context) => {
  const outsideTransaction =
    'in a migration with `exports.config = { transaction: false }` (CONCURRENTLY cannot run in a transaction)';
  if ('IndexStmt' in statement) {
    const index = statement.IndexStmt;
    if (index.concurrent || !index.relation || createdHere(tableName(index.relation), context)) return [];
    return [
      {
        problem: `CREATE INDEX on ${tableName(index.relation)} without CONCURRENTLY blocks writes to the table while the index builds`,
        fix: `CREATE INDEX CONCURRENTLY IF NOT EXISTS (so a retry after a failure is safe), ${outsideTransaction}`,
      },
    ];
  }
  if ('DropStmt' in statement && statement.DropStmt.removeType === 'OBJECT_INDEX' && !statement.DropStmt.concurrent) {
    return [
      {
        problem:
          'DROP INDEX without CONCURRENTLY takes an exclusive lock on the table, blocking reads and writes behind it',
        fix: `DROP INDEX CONCURRENTLY IF EXISTS, ${outsideTransaction}`,
      },
    ];
  }
  if ('ReindexStmt' in statement && !isConcurrentReindex(statement)) {
    return [
      {
        problem: 'REINDEX without CONCURRENTLY blocks writes to the table while it rebuilds',
        fix: `REINDEX ... CONCURRENTLY, ${outsideTransaction}`,
      },
    ];
  }
  return [];
};

/** PostgreSQL refuses CONCURRENTLY inside a transaction block, and knex runs migrations in one by default. */
const concurrentlyInTransaction: Rule = (statement, context) => {
  const concurrent =
    ('IndexStmt' in statement && statement.IndexStmt.concurrent) ||
    ('DropStmt' in statement && statement.DropStmt.concurrent) ||
    ('ReindexStmt' in statement && isConcurrentReindex(statement));
  if (!concurrent || !context.file.transactional) return [];
  return [
    {
      problem:
        'CONCURRENTLY cannot run inside a transaction, and knex runs this migration in one: PostgreSQL would refuse it',
      fix: 'add `exports.config = { transaction: false };` to this migration (and use IF NOT EXISTS / IF EXISTS so a retry is safe)',
    },
  ];
};

/** A foreign key or check added valid reads every row while holding a lock that blocks writes. */
const constraintValidatedAtOnce: Rule = (statement, context) => {
  const validating = (constraint: Constraint): boolean =>
    (constraint.contype === 'CONSTR_FOREIGN' || constraint.contype === 'CONSTR_CHECK') && !constraint.skip_validation;
  const kind = (constraint: Constraint): string =>
    constraint.contype === 'CONSTR_FOREIGN' ? 'foreign key' : 'check constraint';
  const added = alterCommands(statement, context).flatMap(({ table, cmd }) => {
    const constraint = cmd.subtype === 'AT_AddConstraint' ? constraintOf(cmd.def) : undefined;
    return constraint && validating(constraint) ? [{ table, constraint }] : [];
  });
  const problems: Problem[] = added.map(({ table, constraint }) => ({
    problem: `adds a ${kind(constraint)} on ${table} that is validated at once: it reads every row while holding a lock that blocks writes`,
    fix: `add it NOT VALID (new writes are checked at once), then ALTER TABLE ${table} VALIDATE CONSTRAINT ${constraint.conname ?? '...'} in a later migration`,
  }));
  // Written inline on a new column, the constraint is still checked against every existing row.
  for (const { table, column } of addedColumns(statement, context)) {
    for (const constraint of columnConstraints(column).filter(validating)) {
      problems.push({
        problem: `adds ${table}.${column.colname} with an inline ${kind(constraint)}, which is checked against every row while writes are blocked`,
        fix: `add the column alone, then ALTER TABLE ${table} ADD CONSTRAINT ... NOT VALID, and VALIDATE CONSTRAINT in a later migration`,
      });
    }
  }
  return problems;
};

/** VALIDATE in the transaction that added the constraint holds the ADD's write-blocking lock during the scan. */
const validateInSameTransaction: Rule = (statement, context) =>
  alterCommands(statement, context)
    .filter(({ cmd }) => cmd.subtype === 'AT_ValidateConstraint' && context.file.transactional)
    .filter(({ table, cmd }) => context.unvalidatedConstraints.has(normalizeName(`${table}.${cmd.name}`)))
    .map(({ table, cmd }) => ({
      problem: `validates ${table}.${cmd.name} in the same transaction that added it NOT VALID, so the lock taken by ADD CONSTRAINT (which blocks writes) is held through the whole scan`,
      fix: 'move VALIDATE CONSTRAINT to a later migration (or make this one `exports.config = { transaction: false }`)',
    }));

/** A unique or primary key constraint builds its index while writes wait. */
const uniqueConstraintBuildingIndex: Rule = (statement, context) =>
  alterCommands(statement, context).flatMap(({ table, cmd }) => {
    const added =
      cmd.subtype === 'AT_AddConstraint'
        ? [constraintOf(cmd.def)]
        : cmd.subtype === 'AT_AddColumn'
          ? columnConstraints(columnOf(cmd.def))
          : [];
    return added
      .filter(
        (constraint): constraint is Constraint =>
          !!constraint &&
          ['CONSTR_UNIQUE', 'CONSTR_PRIMARY'].includes(constraint.contype ?? '') &&
          !constraint.indexname,
      )
      .map((constraint) => {
        const kind = constraint.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY';
        return {
          problem: `adds a ${kind} constraint on ${table}, building its index while writes are blocked`,
          fix: `CREATE UNIQUE INDEX CONCURRENTLY in a migration with \`exports.config = { transaction: false }\`, then ALTER TABLE ${table} ADD CONSTRAINT ... ${kind} USING INDEX ...`,
        };
      });
  });

const RULES: Rule[] = [
  removalInExpand,
  undeclaredRemovalInContract,
  columnTypeChange,
  addColumnRewritingTable,
  addColumnNotNullWithoutDefault,
  setNotNull,
  indexWithoutConcurrently,
  concurrentlyInTransaction,
  constraintValidatedAtOnce,
  validateInSameTransaction,
  uniqueConstraintBuildingIndex,
];

// ---------------------------------------------------------------------------------------------
// Reading the parse tree

/** A drop or rename of a table or column that existed before this file. */
interface Removal {
  description: string;
  /** The names a `deprecates` entry may use for it, most specific first. */
  names: string[];
}

function removals(statement: Node, context: FileContext): Removal[] {
  if ('RenameStmt' in statement) {
    const rename = statement.RenameStmt;
    if (!rename.relation || createdHere(tableName(rename.relation), context)) return [];
    const table = tableName(rename.relation);
    if (rename.renameType === 'OBJECT_TABLE') return [{ description: `renames table ${table}`, names: [table] }];
    if (rename.renameType === 'OBJECT_COLUMN') {
      return [
        { description: `renames column ${table}.${rename.subname}`, names: [`${table}.${rename.subname}`, table] },
      ];
    }
    return [];
  }
  if ('DropStmt' in statement && statement.DropStmt.removeType === 'OBJECT_TABLE') {
    return (statement.DropStmt.objects ?? [])
      .map(qualifiedName)
      .filter((table) => !createdHere(table, context))
      .map((table) => ({ description: `drops table ${table}`, names: [table] }));
  }
  return alterCommands(statement, context)
    .filter(({ cmd }) => cmd.subtype === 'AT_DropColumn')
    .map(({ table, cmd }) => ({
      description: `drops column ${table}.${cmd.name}`,
      names: [`${table}.${cmd.name}`, table],
    }));
}

/** The commands of an ALTER TABLE on a table that existed before this file (new tables are exempt). */
function alterCommands(statement: Node, context: FileContext): { table: string; cmd: AlterTableCmd }[] {
  if (!('AlterTableStmt' in statement)) return [];
  const alter = statement.AlterTableStmt;
  if ((alter.objtype && alter.objtype !== 'OBJECT_TABLE') || !alter.relation) return [];
  const table = tableName(alter.relation);
  if (createdHere(table, context)) return [];
  return (alter.cmds ?? []).flatMap((node) => ('AlterTableCmd' in node ? [{ table, cmd: node.AlterTableCmd }] : []));
}

function addedColumns(statement: Node, context: FileContext): { table: string; column: ColumnDef }[] {
  return alterCommands(statement, context).flatMap(({ table, cmd }) => {
    const column = cmd.subtype === 'AT_AddColumn' ? columnOf(cmd.def) : undefined;
    return column ? [{ table, column }] : [];
  });
}

/** Why adding this column fills every existing row, if it does. */
function rewriteReason(column: ColumnDef): string | undefined {
  const type = column.typeName?.names?.map(stringValue).at(-1)?.toLowerCase();
  if (type && SERIAL_TYPES.has(type)) return `as ${type} (a sequence default, computed per row)`;
  for (const constraint of columnConstraints(column)) {
    if (constraint.contype === 'CONSTR_IDENTITY') return 'as an identity column (a sequence value per row)';
    if (constraint.contype === 'CONSTR_GENERATED') return 'as a stored generated column (computed per row)';
    const volatile = constraint.contype === 'CONSTR_DEFAULT' ? volatileCall(constraint.raw_expr) : undefined;
    if (volatile) return `with the volatile default ${volatile}() (computed per row)`;
  }
  return undefined;
}

/** The name of a volatile function called anywhere in an expression. */
function volatileCall(expression: unknown): string | undefined {
  if (!expression || typeof expression !== 'object') return undefined;
  if ('FuncCall' in expression) {
    const name = stringValue(
      ((expression as { FuncCall: { funcname?: Node[] } }).FuncCall.funcname ?? []).at(-1),
    )?.toLowerCase();
    if (name && VOLATILE_FUNCTIONS.has(name)) return name;
  }
  for (const value of Object.values(expression)) {
    const found = volatileCall(value);
    if (found) return found;
  }
  return undefined;
}

function isConcurrentReindex(statement: Node): boolean {
  if (!('ReindexStmt' in statement)) return false;
  return (statement.ReindexStmt.params ?? []).some(
    (param) => 'DefElem' in param && param.DefElem.defname === 'concurrently',
  );
}

function constraintOf(node: Node | undefined): Constraint | undefined {
  return node && 'Constraint' in node ? node.Constraint : undefined;
}

function columnOf(node: Node | undefined): ColumnDef | undefined {
  return node && 'ColumnDef' in node ? node.ColumnDef : undefined;
}

function columnConstraints(column: ColumnDef | undefined): Constraint[] {
  return (column?.constraints ?? []).flatMap((node) => ('Constraint' in node ? [node.Constraint] : []));
}

function stringValue(node: Node | undefined): string | undefined {
  return node && 'String' in node ? node.String.sval : undefined;
}

function tableName(relation: RangeVar): string {
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : (relation.relname ?? '');
}

/** "public.users" for DROP TABLE's name lists. */
function qualifiedName(object: Node): string {
  const items = 'List' in object ? (object.List.items ?? []) : [];
  return items.map((item) => stringValue(item) ?? '').join('.');
}

function createdHere(table: string, context: FileContext): boolean {
  return context.createdTables.has(normalizeName(table));
}

/** Names compare case-insensitively, and "public.users" is "users". */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/^public\./, '');
}

function shorten(statement: string): string {
  const oneLine = statement.replace(/\s+/g, ' ').trim();
  return oneLine.length <= STATEMENT_SHOWN ? oneLine : `${oneLine.slice(0, STATEMENT_SHOWN - 1)}…`;
}
