/**
 * Databases of many pending tasks in delayd's own schema, built fast and kept for the next run:
 * the rows are generated inside SQLite (a recursive CTE) with the indexes dropped and created
 * again at the end, journal off. The pending tasks are due from PENDING_BASE_MS over 30 days,
 * far in the future of any run, in every slot of 720 cycles. A database is reused while its
 * row count and the schema (a hash of the migrations) match.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../dist/store/sqlite/schema.js';
import { PAGE_SIZE } from '../dist/store/sqlite/index.js';
import { PAYLOAD_BYTES, progress, removeDb } from './lib.js';

export const PENDING_BASE_MS = Date.parse('2035-01-01T00:00:00Z');
const SPAN_MS = 30 * 86_400_000;
const CHUNK = 1_000_000;
const SCHEMA_HASH = createHash('sha256').update(`${PAGE_SIZE}\n${MIGRATIONS.join('\n')}`).digest('hex').slice(0, 16);

export function pendingDb(dir, n) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `pending-${n}.db`);
  if (existsSync(path) && isCurrent(path, n)) return path;
  removeDb(path);
  const building = `${path}.building`;
  removeDb(building);
  const t0 = performance.now();
  build(building, n);
  renameSync(building, path);
  progress(`built ${n.toLocaleString()} pending tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${path}`);
  return path;
}

function isCurrent(path, n) {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const get = (k) => db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get(k);
      return get('bench_pending') === n && get('bench_schema') === SCHEMA_HASH;
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

function build(path, n) {
  const db = new Database(path);
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.transaction(() => {
    for (const sql of MIGRATIONS) db.exec(sql);
  })();
  db.pragma(`user_version = ${MIGRATIONS.length}`);
  const indexes = db
    .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL`)
    .all();
  for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
  // The args are JSON of PAYLOAD_BYTES bytes, like the other benchmarks' tasks.
  const filler = 'x'.repeat(PAYLOAD_BYTES - '["user-000000000@example.com",""]'.length);
  const insert = db.prepare(`
    WITH RECURSIVE seq(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < @to),
    due(i, ms) AS (SELECT i, CAST(@base AS INTEGER) + (i * CAST(@span AS INTEGER)) / CAST(@n AS INTEGER) FROM seq)
    INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, created_ms)
    SELECT i + 1, 'noop', printf('["user-%09d@example.com","%s"]', i, @filler), 'scheduled',
           ms, (ms / 1000) % 3600, (ms / 1000) / 3600, @base - 86400000
    FROM due`);
  for (let from = 0; from < n; from += CHUNK) {
    insert.run({ from, to: Math.min(n, from + CHUNK), base: PENDING_BASE_MS, span: SPAN_MS, n, filler });
    if (n > CHUNK) progress(`  inserted ${Math.min(n, from + CHUNK).toLocaleString()} of ${n.toLocaleString()}`);
  }
  for (const { sql } of indexes) db.exec(sql);
  db.prepare(`INSERT INTO meta (k, v) VALUES ('bench_pending', ?), ('bench_schema', ?)`).run(n, SCHEMA_HASH);
  db.close();
  const wal = new Database(path);
  wal.pragma('journal_mode = WAL');
  wal.close();
}
