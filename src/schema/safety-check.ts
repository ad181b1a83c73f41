import { parse } from 'libpg-query';
import type { SafetyFinding } from '../domain/schema-change';
import type { MigrationFile } from './migration-files';
import { renderMigrationSql } from './migration-sql';

/**
 * The pre-release safety check: the SQL each pending migration would run, parsed by PostgreSQL's
 * own parser (libpg-query), against the rules that keep live traffic and the old version safe.
 * Each finding names the file, the statement and the safe way to do the same thing.
 */
export interface SafetyCheckOptions {
  /** "table.column" or "table" that migrations declared the new version no longer reads. */
  deprecated?: string[];
}

/** Functions whose DEFAULT makes PostgreSQL rewrite the table (a constant or stable default does not). */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'txid_current',
  'statement_timestamp',
  'random_normal',
]);

const STATEMENT_SHOWN = 200;

/** The parts of libpg-query's JSON tree the rules read. */
interface RangeVar {
  schemaname?: string;
  relname: string;
}
interface Constraint {
  contype: string;
  skip_validation?: boolean;
  raw_expr?: unknown;
  indexname?: string;
}
interface AlterTableCmd {
  subtype: string;
  name?: string;
  def?: { ColumnDef?: { colname: string; constraints?: { Constraint: Constraint }[] }; Constraint?: Constraint };
}
type Node = Record<string, unknown>;

interface Context {
  file: MigrationFile;
  statement: string;
  /** Tables created earlier in this file: new and empty, so nothing on them can hurt traffic. */
  createdHere: Set<string>;
  deprecated: Set<string>;
}

type Problem = Pick<SafetyFinding, 'problem' | 'fix'>;

export async function checkMigrationSafety(files: MigrationFile[], options: SafetyCheckOptions = {}): Promise<SafetyFinding[]> {
  const deprecated = new Set([...(options.deprecated ?? []), ...files.flatMap((file) => file.deprecates)].map((name) => name.toLowerCase()));
  const findings: SafetyFinding[] = [];
  for (const file of files) {
    const finding = (statement: string, problem: Problem): SafetyFinding => ({ file: file.name, phase: file.phase, statement: shorten(statement), ...problem });
    let sqls: string[];
    try {
      sqls = await renderMigrationSql(file);
    } catch (err) {
      findings.push(finding('(up)', { problem: `running up() to see its SQL failed: ${(err as Error).message}`, fix: 'make up(knex) build its statements without depending on data it reads' }));
      continue;
    }
    const createdHere = new Set<string>();
    for (const sql of sqls) {
      let tree: { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
      try {
        tree = await parse(sql);
      } catch (err) {
        findings.push(finding(sql, { problem: `PostgreSQL cannot parse it: ${(err as Error).message}`, fix: 'fix the SQL; the release would fail on it' }));
        continue;
      }
      for (const { stmt, stmt_location: start = 0, stmt_len: length } of tree.stmts ?? []) {
        const statement = sql.slice(start, length ? start + length : undefined).trim();
        const context: Context = { file, statement, createdHere, deprecated };
        for (const problem of problemsOf(stmt, context)) findings.push(finding(statement, problem));
        const created = stmt.CreateStmt as { relation: RangeVar } | undefined;
        if (created) createdHere.add(tableName(created.relation));
      }
    }
  }
  return findings;
}

function problemsOf(stmt: Node, context: Context): Problem[] {
  if (stmt.RenameStmt) return renameProblems(stmt.RenameStmt as { renameType: string; relation?: RangeVar; subname?: string }, context);
  if (stmt.DropStmt) return dropProblems(stmt.DropStmt as { removeType: string; objects?: unknown[]; concurrent?: boolean }, context);
  if (stmt.IndexStmt) return indexProblems(stmt.IndexStmt as { relation: RangeVar; concurrent?: boolean }, context);
  if (stmt.AlterTableStmt) {
    const alter = stmt.AlterTableStmt as { relation: RangeVar; cmds?: { AlterTableCmd: AlterTableCmd }[]; objtype?: string };
    if (alter.objtype && alter.objtype !== 'OBJECT_TABLE') return [];
    const table = tableName(alter.relation);
    if (context.createdHere.has(table)) return [];
    return (alter.cmds ?? []).flatMap(({ AlterTableCmd: cmd }) => alterProblems(table, cmd, context));
  }
  return [];
}

/** Something the old version (in expand) or the running version (in contract) may still read. */
function stillRead(what: string, context: Context): Problem | undefined {
  if (context.file.phase === 'expand') {
    return {
      problem: `${what} while the old version still runs and reads it`,
      fix: 'add the new column or table, keep both in step (a trigger or dual writes), backfill, and drop or rename the old one in a contract migration',
    };
  }
  return undefined;
}

function undeclaredInContract(what: string, names: string[], context: Context): Problem | undefined {
  if (context.file.phase !== 'contract' || names.some((name) => context.deprecated.has(name.toLowerCase()))) return undefined;
  return {
    problem: `${what}, which no migration declared deprecated: the running version may still read it`,
    fix: `declare it in exports.deprecates of the expand migration that replaces it (deprecates: ['${names[0]}'])`,
  };
}

function renameProblems(rename: { renameType: string; relation?: RangeVar; subname?: string }, context: Context): Problem[] {
  if (!rename.relation || !['OBJECT_COLUMN', 'OBJECT_TABLE'].includes(rename.renameType)) return [];
  const table = tableName(rename.relation);
  if (context.createdHere.has(table)) return [];
  const isColumn = rename.renameType === 'OBJECT_COLUMN';
  const what = isColumn ? `renames column ${table}.${rename.subname}` : `renames table ${table}`;
  const names = isColumn ? [`${table}.${rename.subname}`] : [table];
  return compact([stillRead(what, context), undeclaredInContract(what, names, context)]);
}

function dropProblems(drop: { removeType: string; objects?: unknown[]; concurrent?: boolean }, context: Context): Problem[] {
  if (drop.removeType === 'OBJECT_INDEX' && !drop.concurrent) {
    return [
      {
        problem: 'DROP INDEX without CONCURRENTLY blocks reads and writes of the table while it runs',
        fix: 'DROP INDEX CONCURRENTLY IF EXISTS, in a migration with exports.config = { transaction: false }',
      },
    ];
  }
  if (drop.removeType !== 'OBJECT_TABLE') return [];
  return (drop.objects ?? []).flatMap((object) => {
    const table = qualifiedName(object);
    if (context.createdHere.has(table)) return [];
    return compact([stillRead(`drops table ${table}`, context), undeclaredInContract(`drops table ${table}`, [table], context)]);
  });
}

function indexProblems(index: { relation: RangeVar; concurrent?: boolean }, context: Context): Problem[] {
  const table = tableName(index.relation);
  if (index.concurrent && context.file.transactional) {
    return [
      {
        problem: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction, and knex runs this migration in one',
        fix: "add exports.config = { transaction: false } to this migration (and make it safe to re-run: IF NOT EXISTS)",
      },
    ];
  }
  if (index.concurrent || context.createdHere.has(table)) return [];
  return [
    {
      problem: `CREATE INDEX on ${table} without CONCURRENTLY blocks writes to the table for as long as the index takes to build`,
      fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS, in a migration with exports.config = { transaction: false }',
    },
  ];
}

function alterProblems(table: string, cmd: AlterTableCmd, context: Context): Problem[] {
  switch (cmd.subtype) {
    case 'AT_DropColumn': {
      const what = `drops column ${table}.${cmd.name}`;
      return compact([stillRead(what, context), undeclaredInContract(what, [`${table}.${cmd.name}`, table], context)]);
    }
    case 'AT_AlterColumnType':
      return [
        {
          problem: `changes the type of ${table}.${cmd.name}: PostgreSQL rewrites the table under an exclusive lock, and the old version may not read the new type`,
          fix: 'add a column of the new type, keep both in step, backfill it, switch readers, and drop the old column in a contract migration',
        },
      ];
    case 'AT_SetNotNull':
      return [
        {
          problem: `SET NOT NULL on ${table}.${cmd.name} scans the whole table under an exclusive lock`,
          fix: `ADD CONSTRAINT ... CHECK (${cmd.name} IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL (PostgreSQL uses the valid check and skips the scan)`,
        },
      ];
    case 'AT_AddColumn':
      return addColumnProblems(table, cmd, context);
    case 'AT_AddConstraint':
      return constraintProblems(table, cmd.def?.Constraint);
    default:
      return [];
  }
}

function addColumnProblems(table: string, cmd: AlterTableCmd, context: Context): Problem[] {
  const column = cmd.def?.ColumnDef;
  if (!column) return [];
  const constraints = (column.constraints ?? []).map((entry) => entry.Constraint);
  const defaultValue = constraints.find((constraint) => constraint.contype === 'CONSTR_DEFAULT');
  const problems: Problem[] = [];
  if (constraints.some((constraint) => constraint.contype === 'CONSTR_NOTNULL') && !defaultValue) {
    problems.push({
      problem: `adds ${table}.${column.colname} NOT NULL without a default: it fails on a table with rows, and the old version's inserts (which do not set it) would fail`,
      fix: 'add it nullable (or with a constant default), backfill it, and add NOT NULL later through a NOT VALID check constraint',
    });
  }
  const volatile = defaultValue ? volatileCall(defaultValue.raw_expr) : undefined;
  if (volatile) {
    problems.push({
      problem: `adds ${table}.${column.colname} with the volatile default ${volatile}(): PostgreSQL rewrites every row under an exclusive lock`,
      fix: 'add the column without a default (or with a constant one), set the default in a second statement (new rows only), and backfill existing rows',
    });
  }
  for (const constraint of constraints) problems.push(...constraintProblems(table, constraint, context));
  return problems;
}

function constraintProblems(table: string, constraint: Constraint | undefined, context?: Context): Problem[] {
  if (!constraint) return [];
  // An inline constraint on a column being added has no rows to check; only ALTER ... ADD CONSTRAINT validates.
  if (context && constraint.contype !== 'CONSTR_UNIQUE' && constraint.contype !== 'CONSTR_PRIMARY') return [];
  if ((constraint.contype === 'CONSTR_FOREIGN' || constraint.contype === 'CONSTR_CHECK') && !constraint.skip_validation) {
    const kind = constraint.contype === 'CONSTR_FOREIGN' ? 'foreign key' : 'check constraint';
    return [
      {
        problem: `adds a ${kind} on ${table} that is validated at once, holding a lock that blocks writes while it reads every row`,
        fix: `add it NOT VALID (new writes are checked at once), then ALTER TABLE ${table} VALIDATE CONSTRAINT ... in a later migration`,
      },
    ];
  }
  if ((constraint.contype === 'CONSTR_UNIQUE' || constraint.contype === 'CONSTR_PRIMARY') && !constraint.indexname) {
    return [
      {
        problem: `adds a ${constraint.contype === 'CONSTR_UNIQUE' ? 'unique' : 'primary key'} constraint on ${table}, building its index while writes are blocked`,
        fix: 'CREATE UNIQUE INDEX CONCURRENTLY in a transaction: false migration, then ADD CONSTRAINT ... USING INDEX',
      },
    ];
  }
  return [];
}

/** The name of a volatile function called anywhere in a DEFAULT expression. */
function volatileCall(expression: unknown): string | undefined {
  if (Array.isArray(expression)) {
    for (const item of expression) {
      const found = volatileCall(item);
      if (found) return found;
    }
    return undefined;
  }
  if (!expression || typeof expression !== 'object') return undefined;
  const call = (expression as Node).FuncCall as { funcname?: { String?: { sval: string } }[] } | undefined;
  const name = call?.funcname?.at(-1)?.String?.sval.toLowerCase();
  if (name && VOLATILE_FUNCTIONS.has(name)) return name;
  for (const value of Object.values(expression as Node)) {
    const found = volatileCall(value);
    if (found) return found;
  }
  return undefined;
}

function tableName(relation: RangeVar): string {
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
}

function qualifiedName(object: unknown): string {
  const items = ((object as { List?: { items?: { String?: { sval: string } }[] } }).List?.items ?? []).map((item) => item.String?.sval ?? '');
  return items.join('.');
}

function compact(problems: (Problem | undefined)[]): Problem[] {
  return problems.filter((problem): problem is Problem => problem !== undefined);
}

function shorten(statement: string): string {
  const oneLine = statement.replace(/\s+/g, ' ').trim();
  return oneLine.length <= STATEMENT_SHOWN ? oneLine : `${oneLine.slice(0, STATEMENT_SHOWN - 1)}…`;
}

