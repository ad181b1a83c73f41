import crypto from 'node:crypto';
import { Pool } from 'pg';

/**
 * An application-like client of a `users` table during an email_address → primary_email rename.
 * The old version knows only email_address, the new one only primary_email; both insert and
 * update users as fast as they can while the release runs, and remember what each user's email
 * must be. Each writer updates only its own share of the users written before the release (odd or
 * even ids), one statement at a time, so "what it must be" is simply the last value it wrote.
 */
export type AppVersion = 'old' | 'new';

const EMAIL_COLUMN: Record<AppVersion, string> = { old: 'email_address', new: 'primary_email' };

export class UsersApp {
  readonly expected = new Map<number, string>();
  readonly errors: string[] = [];
  readonly writes: Record<AppVersion, number> = { old: 0, new: 0 };
  private readonly pool: Pool;
  private readonly running = new Map<AppVersion, Promise<void>>();
  private readonly stopping = new Set<AppVersion>();
  private seeded = 0;

  constructor(url: string) {
    this.pool = new Pool({ connectionString: url, max: 4, application_name: 'users-app' });
    // An idle connection PostgreSQL ends (the test drops its database) is the pool's to replace.
    this.pool.on('error', () => undefined);
  }

  /** Version 1's table, and `rows` users written before the release. */
  async seed(rows: number): Promise<void> {
    await this.pool.query(
      `CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email_address text NOT NULL)`,
    );
    await this.pool.query(
      `INSERT INTO users (name, email_address) SELECT 'user ' || n, 'user' || n || '@example.com' FROM generate_series(1, $1) AS n`,
      [rows],
    );
    for (let id = 1; id <= rows; id++) this.expected.set(id, `user${id}@example.com`);
    this.seeded = rows;
  }

  start(version: AppVersion): void {
    if (this.running.has(version)) return;
    this.stopping.delete(version);
    this.running.set(version, this.writeUntilStopped(version));
  }

  async stop(version: AppVersion): Promise<void> {
    this.stopping.add(version);
    await this.running.get(version);
    this.running.delete(version);
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((version) => this.stop(version)));
    await this.pool.end();
  }

  /** What the table holds, in the new version's words, beside what the application wrote. */
  async compare(): Promise<{
    rows: number;
    expectedRows: number;
    checksum: string;
    expectedChecksum: string;
    mismatches: number[];
  }> {
    const { rows } = await this.pool.query<{ id: string; primary_email: string | null }>(
      'SELECT id, primary_email FROM users ORDER BY id',
    );
    const actual = rows.map((row) => `${row.id}:${row.primary_email}`).join('\n');
    const wanted = [...this.expected.entries()].sort(([a], [b]) => a - b);
    const mismatches = rows
      .filter((row) => this.expected.get(Number(row.id)) !== row.primary_email)
      .map((row) => Number(row.id));
    return {
      rows: rows.length,
      expectedRows: wanted.length,
      checksum: md5(actual),
      expectedChecksum: md5(wanted.map(([id, email]) => `${id}:${email}`).join('\n')),
      mismatches: mismatches.slice(0, 20),
    };
  }

  private async writeUntilStopped(version: AppVersion): Promise<void> {
    const column = EMAIL_COLUMN[version];
    const parity = version === 'old' ? 0 : 1;
    while (!this.stopping.has(version)) {
      const n = crypto.randomInt(1_000_000_000);
      const email = `${version}-${n}@example.com`;
      try {
        if (n % 3 === 0) {
          const { rows } = await this.pool.query<{ id: string }>(
            `INSERT INTO users (name, ${column}) VALUES ($1, $2) RETURNING id`,
            [`new user ${n}`, email],
          );
          this.expected.set(Number(rows[0].id), email);
        } else {
          const id = this.pickOwnRow(parity, n);
          if (id === undefined) continue;
          await this.pool.query(`UPDATE users SET ${column} = $2 WHERE id = $1`, [id, email]);
          this.expected.set(id, email);
          // Reads its own write back through its own column, as the application would.
          const { rows } = await this.pool.query<{ email: string }>(
            `SELECT ${column} AS email FROM users WHERE id = $1`,
            [id],
          );
          if (rows[0]?.email !== email)
            this.errors.push(`${version}: read ${rows[0]?.email} for user ${id} after writing ${email}`);
        }
        this.writes[version]++;
      } catch (err) {
        this.errors.push(`${version}: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private pickOwnRow(parity: number, n: number): number | undefined {
    if (this.seeded < 2) return undefined;
    const id = (n % this.seeded) + 1;
    return id % 2 === parity ? id : id > 1 ? id - 1 : undefined;
  }
}

function md5(text: string): string {
  return crypto.createHash('md5').update(text).digest('hex');
}
