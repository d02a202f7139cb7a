/**
 * The SQLite schema, versioned with PRAGMA user_version. Each migration moves the file up one
 * version inside a transaction; a file from a newer delayd is refused rather than guessed at.
 *
 * The wheel index is (cycle, slot, due_ms) over scheduled rows only. Since a due second t is
 * cycle * 3600 + slot, a range scan up to (cycle, slot) of "now" yields exactly the due tasks,
 * in due order, whatever their number pending in later cycles: finished rows leave the index.
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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
