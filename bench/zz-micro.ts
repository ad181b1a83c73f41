import knexLib from 'knex';
async function main() {
  const db = knexLib({ client: 'pg', connection: 'postgres://postgres@127.0.0.1:5432/postgres', pool: { min: 1, max: 4 } });
  await db.raw(`CREATE TABLE IF NOT EXISTS fb_fences (lane_id text primary key, token bigint not null default 0, epoch bigint default 0, updated_at timestamptz default now())`);
  const N = 300;
  const results: Record<string, number[]> = {};
  const up = `INSERT INTO fb_fences (lane_id, token) VALUES (?, ?) ON CONFLICT (lane_id) DO UPDATE SET token = EXCLUDED.token, updated_at = now() WHERE fb_fences.token <= EXCLUDED.token RETURNING token`;
  let t = 0;
  const variants: Record<string, () => Promise<unknown>> = {
    'knex.transaction BEGIN/upsert/COMMIT': () => db.transaction(async (trx) => { await trx.raw(up, ['l1', ++t]); }),
    'knex conn: BEGIN+upsert one msg, COMMIT': async () => {
      const conn = await (db.client as any).acquireConnection();
      try {
        await conn.query(`BEGIN; INSERT INTO fb_fences (lane_id, token) VALUES ('l1', ${++t}) ON CONFLICT (lane_id) DO UPDATE SET token = EXCLUDED.token, updated_at = now() WHERE fb_fences.token <= EXCLUDED.token RETURNING token`);
        await conn.query('COMMIT');
      } finally { await (db.client as any).releaseConnection(conn); }
    },
    'knex conn: BEGIN/upsert/COMMIT': async () => {
      const conn = await (db.client as any).acquireConnection();
      try { await conn.query('BEGIN'); await conn.query(up.replace('?', '$1').replace('?', '$2'), ['l1', ++t]); await conn.query('COMMIT'); } finally { await (db.client as any).releaseConnection(conn); }
    },
    'knex.raw upsert autocommit': () => db.raw(up, ['l1', ++t]),
    'knex.raw select 1': () => db.raw('select 1'),
  };
  for (let i = 0; i < N; i++) {
    for (const [name, f] of Object.entries(variants)) {
      await new Promise((r) => setTimeout(r, 12));
      const s = process.hrtime.bigint(); await f(); (results[name] ??= []).push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  }
  for (const [name, xs] of Object.entries(results)) { xs.sort((a, b) => a - b); console.log(name.padEnd(42), 'p50', xs[N / 2].toFixed(3), 'p90', xs[Math.floor(N * 0.9)].toFixed(3)); }
  await db.destroy();
}
main();
