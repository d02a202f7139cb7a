/**
 * The baselines: raw better-sqlite3 doing the storage work of a delayed-task queue, with the
 * settings delayd uses (WAL, synchronous=NORMAL, 2 KB pages, a 40 MB WAL) and the shape of a row: a 105-byte
 * payload, its due time, and its wheel position (slot, cycle) under an index of scheduled rows.
 * No validation, no events, no objects per task: the storage's own limit on this machine.
 */
import Database from 'better-sqlite3';
import { PAGE_SIZE } from '../dist/store/sqlite/index.js';
import { backMs } from './due.js';
import { args105 } from './lib.js';

const SCHEMA = `
  CREATE TABLE jobs (
    id      INTEGER PRIMARY KEY,
    payload TEXT    NOT NULL,
    due_ms  INTEGER NOT NULL,
    slot    INTEGER NOT NULL,
    cycle   INTEGER NOT NULL,
    state   INTEGER NOT NULL DEFAULT 0
  )`;
const INDEX = `CREATE INDEX jobs_wheel ON jobs (cycle, slot) WHERE state = 0`;

export function openRaw(path, { index = true } = {}) {
  const db = new Database(path);
  // delayd's page size and checkpoint window, so that a ratio shows delayd's own cost.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${(40 * 1024 * 1024) / PAGE_SIZE}`);
  db.exec(SCHEMA);
  if (index) db.exec(INDEX);
  return db;
}

function position(dueMs) {
  const second = Math.floor(dueMs / 1000);
  return { slot: second % 3600, cycle: Math.floor(second / 3600) };
}

function insertStatement(db) {
  return db.prepare('INSERT INTO jobs (payload, due_ms, slot, cycle) VALUES (?, ?, ?, ?)');
}

function insertRow(stmt, i, dueMs) {
  const { slot, cycle } = position(dueMs);
  return stmt.run(JSON.stringify(args105(i)), dueMs, slot, cycle);
}

/** Rows per second, each INSERT in its own (autocommit) transaction. */
export function rawSingleInserts(path, n, dueMsOf, warmup = 0) {
  const db = openRaw(path);
  const insert = insertStatement(db);
  for (let i = 0; i < warmup; i++) insertRow(insert, i, dueMsOf(i));
  const t0 = performance.now();
  for (let i = warmup; i < warmup + n; i++) insertRow(insert, i, dueMsOf(i));
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return n / seconds;
}

/** Rows per second, `batch` INSERTs per transaction. */
export function rawBatchedInserts(path, n, batch, dueMsOf, { index = true } = {}) {
  const db = openRaw(path, { index });
  const insert = insertStatement(db);
  const insertMany = db.transaction((from, to) => {
    for (let i = from; i < to; i++) insertRow(insert, i, dueMsOf(i));
  });
  const t0 = performance.now();
  for (let from = 0; from < n; from += batch) insertMany.immediate(from, Math.min(n, from + batch));
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return n / seconds;
}

/** A table of n rows already due at `nowMs`, over the `spreadS` seconds before it (see due.js). */
export function rawDueTable(path, n, nowMs, spreadS, ordered = false) {
  const db = openRaw(path);
  const insert = insertStatement(db);
  db.transaction(() => {
    for (let i = 0; i < n; i++) insertRow(insert, i, nowMs - 1 - backMs(i, n, spreadS, ordered));
  }).immediate();
  return db;
}

/**
 * The claim-then-complete cycle over a table of due rows: claim (mark running and read back)
 * in one transaction, then mark done in another. `batch` rows per transaction (1 is the
 * naive queue, one row at a time). Stops after `n` rows (a sample of a larger table is
 * enough for a rate). Returns rows per second and the milliseconds until the first claimed row
 * was in hand.
 */
export function rawClaimComplete(db, n, nowMs, batch) {
  const { slot, cycle } = position(nowMs);
  const claim = db.prepare(`
    UPDATE jobs SET state = 1 WHERE id IN (
      SELECT id FROM jobs WHERE state = 0 AND (cycle, slot) <= (?, ?) ORDER BY cycle, slot LIMIT ?)
    RETURNING id, payload`);
  const complete = db.prepare('UPDATE jobs SET state = 2 WHERE id = ?');
  const claimTx = db.transaction((limit) => claim.all(cycle, slot, limit));
  const completeTx = db.transaction((rows) => {
    for (const row of rows) complete.run(row.id);
  });
  let done = 0;
  let firstMs = null;
  const t0 = performance.now();
  while (done < n) {
    const rows = batch === 1 ? claim.all(cycle, slot, 1) : claimTx.immediate(Math.min(batch, n - done));
    if (rows.length === 0) break;
    if (firstMs === null) firstMs = performance.now() - t0;
    for (const row of rows) JSON.parse(row.payload);
    if (batch === 1) complete.run(rows[0].id);
    else completeTx.immediate(rows);
    done += rows.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (done !== n) throw new Error(`raw claim-complete finished ${done} of ${n} rows`);
  return { rate: n / seconds, firstMs, totalMs: seconds * 1000 };
}

/** Bytes of the database file per row after n rows of random due times are inserted. */
export function rawBytesPerRow(path, n, batch, dueMsOf) {
  rawBatchedInserts(path, n, batch, dueMsOf);
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
  db.close();
  return bytes / n;
}
