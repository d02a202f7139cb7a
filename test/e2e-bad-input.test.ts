/**
 * Every bad input is answered with a non-zero exit, one clear line on stderr, nothing on
 * stdout, and an unchanged database (every row of every table compared before and after).
 * Exit 2 is a usage error caught by the parser; exit 1 is an error from delayd itself.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, snapshot, tempDir, type CliResult } from './fixtures/cli.js';

let tmp: ReturnType<typeof tempDir>;
/** Task 1 `fast` scheduled in an hour, task 2 cancelled. */
let base: string;

beforeAll(async () => {
  tmp = tempDir();
  base = tmp.db;
  for (const args of [['enqueue', 'fast', '--countdown', '3600'], ['enqueue', 'fast', '--countdown', '3600'], ['cancel', '2']]) {
    const result = await cli([...args, '--db', base]);
    if (result.code !== 0) throw new Error(result.stderr);
  }
  writeFileSync(join(tmp.dir, 'bad-first-line.jsonl'), '{"name": "fast", "args": 1}\n{"name": "fast"}\n');
});
afterAll(() => tmp.remove());

function expectOneError(result: CliResult, code: number, message: RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^delayd: [^\n]+\n$/);
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(code);
}

/** A copy of the base database, so a case that must not change it has its own. */
function copyOfBase(name: string): string {
  // Everything into the main file first, so that copying it copies every row.
  const conn = new Database(base);
  conn.pragma('wal_checkpoint(TRUNCATE)');
  conn.close();
  const path = join(tmp.dir, name);
  copyFileSync(base, path);
  return path;
}

describe('bad command lines change nothing', () => {
  it.each([
    ['no command', [], 2, /Name a command: daemon, enqueue/],
    ['an unknown command', ['frob'], 2, /Unknown command "frob"; expected one of daemon, enqueue/],
    ['an unknown option', ['stats', '--frob'], 2, /Unknown argument: frob/],
    ['an option of another command', ['list', '--older-than', '1d'], 2, /Unknown arguments?: older-than/],
    ['a missing argument', ['show'], 2, /Not enough non-option arguments/],
    ['an option without its value', ['enqueue', 'fast', '--countdown'], 2, /Not enough arguments following: countdown/],
    ['both --countdown and --eta', ['enqueue', 'fast', '--countdown', '1', '--eta', '2030-01-01T00:00:00Z'], 2, /mutually exclusive/],
    ['an unknown state', ['list', '--state', 'done'], 2, /Invalid values: Argument: state, Given: "done"/],
    ['--args that is not JSON', ['enqueue', 'fast', '--args', '[1,'], 1, /Expected `--args` to be a JSON array such as .*, got `"\[1,"` \(string\), which is not JSON/],
    ['--args that is not an array', ['enqueue', 'fast', '--args', '{"a": 1}'], 1, /Expected `args` to be an array, got an object/],
    ['a negative countdown', ['enqueue', 'fast', '--countdown', '-1'], 1, /Expected `countdown` to be a finite number of seconds >= 0, got `-1` \(number\)/],
    ['a countdown that is not a number', ['enqueue', 'fast', '--countdown', 'soon'], 1, /Expected `--countdown` to be a number, got `"soon"`/],
    ['a bad eta', ['enqueue', 'fast', '--eta', 'tomorrow'], 1, /Expected `eta` to be a valid Date, unix milliseconds or ISO 8601 time, got `"tomorrow"`/],
    ['negative retries', ['enqueue', 'fast', '--retries', '-2'], 1, /Expected `retries` to be an integer from 0 to 1000, got `-2`/],
    ['a bad line in --file', ['enqueue', '--file', 'FILE:bad-first-line.jsonl'], 1, /^delayd: line 1: Expected `args` to be an array, got `1` \(number\); nothing was written/],
    ['a --file that does not exist', ['enqueue', '--file', 'FILE:nope.jsonl'], 1, /--file.*no such file/],
    ['an unknown id for show', ['show', '999'], 1, /^delayd: No task with id 999\n$/],
    ['an unknown id for cancel', ['cancel', '999'], 1, /^delayd: No task with id 999\n$/],
    ['an unknown id for retry', ['retry', '999'], 1, /^delayd: No task with id 999\n$/],
    ['an unknown id for reschedule', ['reschedule', '999', '--countdown', '5'], 1, /^delayd: No task with id 999\n$/],
    ['an id that is not a number', ['show', 'abc'], 1, /Expected a task ID \(a positive integer\), got `"abc"`/],
    ['retry of a task that has not failed', ['retry', '1'], 1, /Cannot retry task 1: expected it to be failed, but it is scheduled/],
    ['cancel of a cancelled task', ['cancel', '2'], 1, /Cannot cancel task 2: expected it to be scheduled, but it is cancelled/],
    ['reschedule to a bad eta', ['reschedule', '1', '--eta', 'later'], 1, /Expected `eta` to be/],
    ['reschedule without a time', ['reschedule', '1'], 2, /Give --countdown SECONDS or --eta ISO_TIME/],
    ['purge with a duration without unit', ['purge', '--older-than', '7'], 1, /Expected `--older-than` to be a duration such as 30s, 15m, 12h or 7d, got `"7"`/],
    ['purge without --older-than', ['purge'], 2, /Missing required argument: older-than/],
  ] as const)('%s', async (_, args, code, message) => {
    const before = snapshot(base);
    const resolved = args.map((a) => (a.startsWith('FILE:') ? join(tmp.dir, a.slice(5)) : a));
    expectOneError(await cli([...resolved, '--db', base]), code, message);
    expect(snapshot(base)).toBe(before);
  });
});

describe('bad databases are refused and left as they were', () => {
  const readCommands = [['stats'], ['list'], ['show', '1'], ['cancel', '1'], ['retry', '1'], ['reschedule', '1', '--countdown', '5'], ['purge', '--older-than', '1d']];

  it.each(readCommands)('a missing file: %s', async (...args) => {
    const missing = join(tmp.dir, 'missing.db');
    expectOneError(await cli([...args, '--db', missing]), 1, /^delayd: \S+missing\.db: no such database file\n$/);
    expect(readdirSync(tmp.dir).filter((f) => f.startsWith('missing'))).toEqual([]);
  });

  it('bad input to enqueue does not create a missing database', async () => {
    const missing = join(tmp.dir, 'not-created.db');
    expectOneError(await cli(['enqueue', 'fast', '--args', 'nope', '--db', missing]), 1, /--args/);
    expect(existsSync(missing)).toBe(false);
  });

  it.each([['stats'], ['show', '1'], ['enqueue', 'fast'], ['cancel', '1']])('a file that is not SQLite: %s', async (...args) => {
    const path = join(tmp.dir, 'notes.txt');
    writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
    const listing = readdirSync(tmp.dir).sort();
    expectOneError(await cli([...args, '--db', path]), 1, /^delayd: \S+notes\.txt: the file is not an SQLite database \(SQLITE_NOTADB/);
    expect(readFileSync(path, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
    expect(readdirSync(tmp.dir).sort()).toEqual(listing);
  });

  it.each([['stats'], ['list'], ['enqueue', 'fast'], ['cancel', '1']])('a database from a newer delayd: %s', async (...args) => {
    const path = copyOfBase('newer.db');
    const conn = new Database(path);
    conn.pragma('user_version = 99');
    conn.close();
    const before = snapshot(path);
    expectOneError(await cli([...args, '--db', path]), 1, /^delayd: \S+newer\.db: the database has schema version 99, newer than this delayd's \d+; upgrade delayd\n$/);
    expect(snapshot(path)).toBe(before);
  });

  it.each([['stats'], ['list'], ['enqueue', 'fast'], ['daemon', '--handlers', 'x.js']])(
    "another program's SQLite database, in rollback-journal mode: %s",
    async (...args) => {
      const path = join(tmp.dir, 'theirs.db');
      const theirs = new Database(path);
      theirs.exec('CREATE TABLE IF NOT EXISTS invoices (id INTEGER PRIMARY KEY, total REAL)');
      theirs.close();
      const bytes = readFileSync(path);
      expectOneError(await cli([...args, '--db', path]), 1, /^delayd: \S+theirs\.db: not a delayd database \(it has 1 tables or indexes of another program's\); refusing to change it\n$/);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      const after = new Database(path, { readonly: true });
      expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
      after.close();
    },
  );

  it('an empty SQLite file is not taken for a delayd database by the read commands', async () => {
    const path = join(tmp.dir, 'empty.db');
    writeFileSync(path, '');
    expectOneError(await cli(['stats', '--db', path]), 1, /not a delayd database \(it has no delayd tables\)/);
    expect(readFileSync(path).length).toBe(0);
  });

  it('a newer database in rollback-journal mode is refused before anything is switched to WAL', async () => {
    const path = join(tmp.dir, 'newer-rollback.db');
    const conn = new Database(path);
    conn.exec('CREATE TABLE tasks (id INTEGER PRIMARY KEY)');
    conn.pragma('user_version = 99');
    conn.close();
    const bytes = readFileSync(path);
    expectOneError(await cli(['stats', '--db', path]), 1, /newer than this delayd's/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a database locked by another process: writes fail after the busy timeout, reads still answer', async () => {
    const path = copyOfBase('locked.db');
    const before = snapshot(path);
    const holder = new Database(path);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const writes = [['enqueue', 'fast'], ['cancel', '1'], ['reschedule', '1', '--countdown', '5'], ['purge', '--older-than', '0s']];
      for (const args of writes) {
        expectOneError(await cli([...args, '--db', path, '--busy-timeout', '0.1']), 1, /^delayd: \S+locked\.db: the database is locked by another process past the busy timeout \(SQLITE_BUSY/);
      }
      const env = { ...process.env, DELAYD_BUSY_TIMEOUT: '0.1' };
      expectOneError(await cli(['enqueue', 'fast', '--db', path], { env }), 1, /locked/);
      // WAL lets readers through while a writer holds the lock.
      expect((await cli(['stats', '--db', path])).code).toBe(0);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(snapshot(path)).toBe(before);
  });
});
