/**
 * The SQLite schema, versioned with PRAGMA user_version. Each migration moves the file up one
 * version inside a transaction; a file from a newer delayd is refused rather than guessed at.
 *
 * The wheel index is (name, cycle, slot, due_ms) over scheduled rows in the wheel (migration 5).
 * Since a due second t is cycle * 3600 + slot, a range scan of one name up to (cycle, slot) of
 * "now" yields exactly that name's due tasks, in due order, whatever their number pending in
 * later cycles or under other names: finished rows leave it.
 *
 * Bulk inserts keep tasks due two or more cycles (hours) ahead out of that index (migration 4):
 * see the comment there.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    args        TEXT    NOT NULL,
    state       TEXT    NOT NULL
                CHECK (state IN ('scheduled', 'running', 'succeeded', 'failed', 'cancelled')),
    due_ms      INTEGER NOT NULL,
    slot        INTEGER NOT NULL,
    cycle       INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    retries     INTEGER NOT NULL DEFAULT 0,
    backoff_ms  INTEGER NOT NULL DEFAULT 1000,
    timeout_ms  INTEGER,
    key         TEXT,
    owner       TEXT,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    finished_ms INTEGER,
    last_error  TEXT,
    result      TEXT
  );
  CREATE INDEX tasks_wheel ON tasks (cycle, slot, due_ms) WHERE state = 'scheduled';
  CREATE INDEX tasks_running ON tasks (owner) WHERE state = 'running';
  CREATE UNIQUE INDEX tasks_key ON tasks (key)
    WHERE key IS NOT NULL AND state IN ('scheduled', 'running');
  CREATE TABLE meta (
    k TEXT PRIMARY KEY,
    v
  ) WITHOUT ROWID;
  CREATE TABLE workers (
    owner      TEXT PRIMARY KEY,
    host       TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    names      TEXT    NOT NULL,
    started_ms INTEGER NOT NULL,
    beat       INTEGER NOT NULL,
    seen_ms    INTEGER NOT NULL
  );
  `,
  // 2: batches (issue 6). Each item's final outcome is two bits, done and ok, kept in chunks
  // of 4096 items (two 512-byte blobs per batch_chunks row): a million items take about
  // 250 KB, and one outcome rewrites 1 KB. `done` and `ok` on the batch row count the set
  // bits. The reduce task is inserted in the same transaction as the last done bit, and
  // reduce_task_id, written once, is what makes that happen once.
  `
  ALTER TABLE tasks ADD COLUMN batch_id INTEGER;
  ALTER TABLE tasks ADD COLUMN batch_index INTEGER;
  CREATE INDEX tasks_batch ON tasks (batch_id, batch_index) WHERE batch_id IS NOT NULL;
  CREATE TABLE batches (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    total             INTEGER NOT NULL,
    done              INTEGER NOT NULL DEFAULT 0,
    ok                INTEGER NOT NULL DEFAULT 0,
    key               TEXT,
    reduce_name       TEXT,
    reduce_retries    INTEGER NOT NULL DEFAULT 0,
    reduce_backoff_ms INTEGER NOT NULL DEFAULT 1000,
    reduce_timeout_ms INTEGER,
    reduce_task_id    INTEGER,
    created_ms        INTEGER NOT NULL,
    finished_ms       INTEGER
  );
  CREATE UNIQUE INDEX batches_key ON batches (key) WHERE key IS NOT NULL AND finished_ms IS NULL;
  CREATE TABLE batch_chunks (
    batch_id INTEGER NOT NULL,
    chunk    INTEGER NOT NULL,
    done     BLOB    NOT NULL,
    ok       BLOB    NOT NULL,
    PRIMARY KEY (batch_id, chunk)
  );
  `,
  // 3: the history of failed attempts, a JSON array of { attempt, atMs, error }, oldest first.
  `
  ALTER TABLE tasks ADD COLUMN errors TEXT;
  `,
  // 4: the hour buckets of a two-level wheel. A bulk insert puts each task due in the current or
  // next cycle into the wheel index, where it lands at a random place (a random page write per
  // task, which capped bulk inserts at about half of what the table alone takes). Every later
  // task goes in with in_wheel = 0, out of the index, and its id into one bucket row of its
  // cycle (ids: a JSON array of at most BUCKET_IDS): one small row per cycle per insert instead
  // of one index entry per task. Before a claim reaches a cycle, that cycle's buckets are joined
  // to the wheel (in_wheel = 1); a background thread does it during the cycle before. Ids whose
  // task has since changed (cancelled, rescheduled straight into the wheel) join harmlessly:
  // the index only holds scheduled rows at their own due time.
  //
  // The table is rebuilt (SQLite cannot change a CHECK in place) to check the state with ORs:
  // `state IN (...)` built a lookup table on every INSERT statement, and bulk inserts were a
  // tenth slower for it.
  `
  CREATE TABLE tasks_v4 (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    args        TEXT    NOT NULL,
    state       TEXT    NOT NULL
                CHECK (state = 'scheduled' OR state = 'running' OR state = 'succeeded'
                       OR state = 'failed' OR state = 'cancelled'),
    due_ms      INTEGER NOT NULL,
    slot        INTEGER NOT NULL,
    cycle       INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    retries     INTEGER NOT NULL DEFAULT 0,
    backoff_ms  INTEGER NOT NULL DEFAULT 1000,
    timeout_ms  INTEGER,
    key         TEXT,
    owner       TEXT,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    finished_ms INTEGER,
    last_error  TEXT,
    result      TEXT,
    batch_id    INTEGER,
    batch_index INTEGER,
    errors      TEXT,
    in_wheel    INTEGER NOT NULL DEFAULT 1
  );
  INSERT INTO tasks_v4 (id, name, args, state, due_ms, slot, cycle, attempts, retries, backoff_ms,
    timeout_ms, key, owner, created_ms, started_ms, finished_ms, last_error, result, batch_id,
    batch_index, errors)
  SELECT id, name, args, state, due_ms, slot, cycle, attempts, retries, backoff_ms,
    timeout_ms, key, owner, created_ms, started_ms, finished_ms, last_error, result, batch_id,
    batch_index, errors
  FROM tasks;
  DROP TABLE tasks;
  ALTER TABLE tasks_v4 RENAME TO tasks;
  CREATE INDEX tasks_wheel ON tasks (cycle, slot, due_ms) WHERE state = 'scheduled' AND in_wheel = 1;
  CREATE INDEX tasks_running ON tasks (owner) WHERE state = 'running';
  CREATE UNIQUE INDEX tasks_key ON tasks (key)
    WHERE key IS NOT NULL AND (state = 'scheduled' OR state = 'running');
  CREATE INDEX tasks_batch ON tasks (batch_id, batch_index) WHERE batch_id IS NOT NULL;
  CREATE TABLE cycle_buckets (
    id    INTEGER PRIMARY KEY,
    cycle INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    ids   TEXT    NOT NULL
  );
  CREATE INDEX cycle_buckets_cycle ON cycle_buckets (cycle);
  `,
  // 5: issue 10. Ids are never reused, so an id once handed out never names another task or
  // batch. Batches get AUTOINCREMENT (few inserts). Tasks do not: its sqlite_sequence write cost
  // a fifth of delay()'s speed. Instead a purge first raises meta 'task_id_floor' to the highest
  // id it may delete, and every insert numbers from max(max(id), floor) + 1 (writes.ts). The policy columns become nullable with no default:
  // NULL means "not given at enqueue", and the handler's policy applies (policy.ts); existing
  // rows keep their values, which were explicit when written. `open` is 1 while the current
  // attempt has started and not ended (the fence of every outcome, see types.ts); `cut_offs`
  // counts attempts whose owner died or stopped while they were open. The wheel index leads
  // with the name: a claim scans only the names its owner serves, each up to what is due.
  // Workers publish their handlers' policies.
  `
  CREATE TABLE tasks_v5 (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    state           TEXT    NOT NULL
                    CHECK (state = 'scheduled' OR state = 'running' OR state = 'succeeded'
                           OR state = 'failed' OR state = 'cancelled'),
    due_ms          INTEGER NOT NULL,
    slot            INTEGER NOT NULL,
    cycle           INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    retries         INTEGER,
    backoff_ms      INTEGER,
    timeout_ms      INTEGER,
    key             TEXT,
    owner           TEXT,
    created_ms      INTEGER NOT NULL,
    started_ms      INTEGER,
    finished_ms     INTEGER,
    last_error      TEXT,
    result          TEXT,
    batch_id        INTEGER,
    batch_index     INTEGER,
    errors          TEXT,
    in_wheel        INTEGER NOT NULL DEFAULT 1,
    cut_offs        INTEGER NOT NULL DEFAULT 0,
    open            INTEGER NOT NULL DEFAULT 0,
    last_error_code TEXT
  );
  INSERT INTO tasks_v5 (id, name, args, state, due_ms, slot, cycle, attempts, retries, backoff_ms,
    timeout_ms, key, owner, created_ms, started_ms, finished_ms, last_error, result, batch_id,
    batch_index, errors, in_wheel)
  SELECT id, name, args, state, due_ms, slot, cycle, attempts, retries, backoff_ms,
    timeout_ms, key, owner, created_ms, started_ms, finished_ms, last_error, result, batch_id,
    batch_index, errors, in_wheel
  FROM tasks;
  DROP TABLE tasks;
  ALTER TABLE tasks_v5 RENAME TO tasks;
  CREATE INDEX tasks_wheel ON tasks (name, cycle, slot, due_ms) WHERE state = 'scheduled' AND in_wheel = 1;
  CREATE INDEX tasks_running ON tasks (owner) WHERE state = 'running';
  CREATE UNIQUE INDEX tasks_key ON tasks (key)
    WHERE key IS NOT NULL AND (state = 'scheduled' OR state = 'running');
  CREATE INDEX tasks_batch ON tasks (batch_id, batch_index) WHERE batch_id IS NOT NULL;
  CREATE TABLE batches_v5 (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT    NOT NULL,
    total             INTEGER NOT NULL,
    done              INTEGER NOT NULL DEFAULT 0,
    ok                INTEGER NOT NULL DEFAULT 0,
    key               TEXT,
    reduce_name       TEXT,
    reduce_retries    INTEGER,
    reduce_backoff_ms INTEGER,
    reduce_timeout_ms INTEGER,
    reduce_task_id    INTEGER,
    created_ms        INTEGER NOT NULL,
    finished_ms       INTEGER
  );
  INSERT INTO batches_v5 SELECT id, name, total, done, ok, key, reduce_name, reduce_retries,
    reduce_backoff_ms, reduce_timeout_ms, reduce_task_id, created_ms, finished_ms FROM batches;
  DROP TABLE batches;
  ALTER TABLE batches_v5 RENAME TO batches;
  CREATE UNIQUE INDEX batches_key ON batches (key) WHERE key IS NOT NULL AND finished_ms IS NULL;
  ALTER TABLE workers ADD COLUMN policies TEXT NOT NULL DEFAULT '{}';
  INSERT INTO meta (k, v) SELECT 'task_id_floor', coalesce(max(id), 0) FROM tasks WHERE true
    ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v);
  `,
  // 6: issue 14, periodic tasks. One row per cron name: the definition a daemon's code last
  // synced (expression, zone, args, missed), when it last changed, when it was removed (a
  // daemon served the name without a cron), and the last occurrence whose first attempt
  // started. The occurrences themselves are ordinary tasks keyed `cron:<name>:<dueMs>`: their
  // head (the one not yet started) is found through tasks_key, which holds every unfinished
  // keyed task, so no index is added to tasks.
  `
  CREATE TABLE crons (
    name         TEXT PRIMARY KEY,
    expression   TEXT    NOT NULL,
    tz           TEXT    NOT NULL,
    args         TEXT    NOT NULL,
    missed       TEXT    NOT NULL CHECK (missed = 'skip' OR missed = 'once' OR missed = 'all'),
    updated_ms   INTEGER NOT NULL,
    synced_ms    INTEGER NOT NULL,
    removed_ms   INTEGER,
    last_task_id INTEGER
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
