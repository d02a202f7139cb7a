/**
 * Every bad input is answered with a non-zero exit, one clear line on stderr, nothing on
 * stdout, and an unchanged database (every row of every table compared before and after).
 * Exit 2 is a usage error caught by the parser; exit 1 is an error from delayd itself.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cli, HANDLERS, snapshot, tempDir, type CliResult } from './fixtures/cli.js';

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
  // One line, with the code of the error: `delayd: E_CODE: message`.
  expect(result.stderr).toMatch(/^delayd: E_[A-Z_]+: [^\n]+\n$/);
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
    ['no command', [], 2, /^delayd: E_USAGE: Name a command: daemon, enqueue/],
    ['an unknown command', ['frob'], 2, /^delayd: E_USAGE: Unknown command "frob"; expected one of daemon, enqueue/],
    ['an unknown option', ['stats', '--frob'], 2, /^delayd: E_USAGE: Unknown argument: frob/],
    ['an option of another command', ['list', '--older-than', '1d'], 2, /Unknown arguments?: older-than/],
    ['a missing argument', ['show'], 2, /^delayd: E_USAGE: Not enough non-option arguments/],
    ['an option without its value', ['enqueue', 'fast', '--countdown'], 2, /Not enough arguments following: countdown/],
    ['both --countdown and --eta', ['enqueue', 'fast', '--countdown', '1', '--eta', '2030-01-01T00:00:00Z'], 2, /mutually exclusive/],
    ['an unknown state', ['list', '--state', 'done'], 1, /^delayd: E_BAD_OPTION: Expected `--state` to be one of scheduled, running, succeeded, failed, cancelled, got `"done"`/],
    ['--args that is not JSON', ['enqueue', 'fast', '--args', '[1,'], 1, /^delayd: E_BAD_ARGS: Expected `--args` to be a JSON array such as .*, got `"\[1,"` \(string\), which is not JSON/],
    ['--args that is not an array', ['enqueue', 'fast', '--args', '{"a": 1}'], 1, /^delayd: E_BAD_ARGS: Expected `--args` to be an array, got an object/],
    ['a negative countdown', ['enqueue', 'fast', '--countdown', '-1'], 1, /^delayd: E_BAD_COUNTDOWN: Expected `--countdown` to be a finite number of seconds >= 0, got `-1` \(number\)/],
    ['a countdown that is not a number', ['enqueue', 'fast', '--countdown', 'soon'], 1, /^delayd: E_BAD_OPTION: Expected `--countdown` to be a decimal number, got `"soon"`/],
    ['a bad eta', ['enqueue', 'fast', '--eta', 'tomorrow'], 1, /^delayd: E_BAD_ETA: Expected `--eta` to be unix milliseconds, YYYY-MM-DD \(00:00 UTC\), or YYYY-MM-DDTHH:MM\[:SS\[.sss\]\] with Z or an offset such as \+01:00, got `"tomorrow"`/],
    ['negative retries', ['enqueue', 'fast', '--retries', '-2'], 1, /^delayd: E_BAD_OPTION: Expected `--retries` to be an integer from 0 to 1000, got `-2`/],
    ['a bad line in --file', ['enqueue', '--file', 'FILE:bad-first-line.jsonl'], 1, /^delayd: E_BAD_ARGS: line 1: Expected `args` to be an array, got `1` \(number\); nothing was written/],
    ['a --file that does not exist', ['enqueue', '--file', 'FILE:nope.jsonl'], 1, /^delayd: E_BAD_OPTION: .*--file.*no such file/],
    ['an unknown id for show', ['show', '999'], 1, /^delayd: E_NOT_FOUND: No task with id 999\n$/],
    ['an unknown id for cancel', ['cancel', '999'], 1, /^delayd: E_NOT_FOUND: No task with id 999\n$/],
    ['an unknown id for retry', ['retry', '999'], 1, /^delayd: E_NOT_FOUND: No task with id 999\n$/],
    ['an unknown id for reschedule', ['reschedule', '999', '--countdown', '5'], 1, /^delayd: E_NOT_FOUND: No task with id 999\n$/],
    ['an id that is not a number', ['show', 'abc'], 1, /^delayd: E_BAD_OPTION: Expected a task ID \(a positive integer\), got `"abc"`/],
    ['retry of a task that has not failed', ['retry', '1'], 1, /^delayd: E_BAD_STATE: Cannot retry task 1: expected it to be failed, but it is scheduled/],
    ['cancel of a cancelled task', ['cancel', '2'], 1, /^delayd: E_BAD_STATE: Cannot cancel task 2: expected it to be scheduled, but it is cancelled/],
    ['reschedule to a bad eta', ['reschedule', '1', '--eta', 'later'], 1, /^delayd: E_BAD_ETA: Expected `--eta` to be/],
    ['reschedule without a time', ['reschedule', '1'], 2, /^delayd: E_USAGE: Give --countdown SECONDS or --eta ISO_TIME/],
    ['purge with a duration without unit', ['purge', '--older-than', '7'], 1, /^delayd: E_BAD_OPTION: Expected `--older-than` to be a duration such as 30s, 15m, 12h or 7d, got `"7"`/],
    ['purge without --older-than', ['purge'], 2, /^delayd: E_USAGE: Missing required argument: older-than/],
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
    expectOneError(await cli([...args, '--db', missing]), 1, /^delayd: E_DB_MISSING: \S+missing\.db: no such database file\n$/);
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
    expectOneError(await cli([...args, '--db', path]), 1, /^delayd: E_DB_NOT_SQLITE: \S+notes\.txt: the file is not an SQLite database \(SQLITE_NOTADB/);
    expect(readFileSync(path, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
    expect(readdirSync(tmp.dir).sort()).toEqual(listing);
  });

  it.each([['stats'], ['list'], ['enqueue', 'fast'], ['cancel', '1']])('a database from a newer delayd: %s', async (...args) => {
    const path = copyOfBase('newer.db');
    const conn = new Database(path);
    conn.pragma('user_version = 99');
    conn.close();
    const before = snapshot(path);
    expectOneError(await cli([...args, '--db', path]), 1, /^delayd: E_DB_NEWER_SCHEMA: \S+newer\.db: the database has schema version 99, newer than this delayd's \d+; upgrade delayd\n$/);
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
      expectOneError(await cli([...args, '--db', path]), 1, /^delayd: E_DB_NOT_DELAYD: \S+theirs\.db: not a delayd database \(it has 1 tables or indexes of another program's\); refusing to change it\n$/);
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
        expectOneError(await cli([...args, '--db', path, '--busy-timeout', '0.1']), 1, /^delayd: E_DB_LOCKED: \S+locked\.db: the database is locked by another process past the busy timeout \(SQLITE_BUSY/);
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

/** The red team's bad inputs (shared/reports/redteam-2026-12-01.md, findings 4-8, 16, 17; issue 10 point 7). */
describe('the red team\'s bad inputs: a coded one-line error, exit 1, nothing changed', () => {
  const H = ['--handlers', HANDLERS];
  it.each([
    ['a countdown past the Date range (6)', ['enqueue', 'fast', '--countdown', '1e13'], /^delayd: E_BAD_COUNTDOWN: Expected `--countdown` to be small enough that the due time stays within 8640000000000000 unix ms/],
    ['a countdown of 1e308 (16)', ['enqueue', 'fast', '--countdown', '1e308'], /^delayd: E_BAD_COUNTDOWN: /],
    ['reschedule past the Date range (6)', ['reschedule', '1', '--countdown', '1e13'], /^delayd: E_BAD_COUNTDOWN: /],
    ['a backoff past what a timer holds (1, 6)', ['enqueue', 'fast', '--backoff', '1e13', '--retries', '1'], /^delayd: E_BAD_OPTION: Expected `--backoff` to be a number of seconds from 0 to 2147483 \(at most 2147483 s\)/],
    ['a backoff of 1e306 (1)', ['enqueue', 'fast', '--backoff', '1e306', '--retries', '1'], /^delayd: E_BAD_OPTION: Expected `--backoff`/],
    ['a timeout over 2^31 ms (5)', ['enqueue', 'fast', '--timeout', '3000000'], /^delayd: E_BAD_OPTION: Expected `--timeout` .*at most 2147483 s/],
    ['a timeout that rounds to 0 ms (17)', ['enqueue', 'fast', '--timeout', '0.0004'], /^delayd: E_BAD_OPTION: Expected `--timeout` to be a number of seconds from 0.001/],
    ['a busy timeout over 2^31 ms (5)', ['enqueue', 'fast', '--busy-timeout', '3000000'], /^delayd: E_BAD_OPTION: Expected `--busy-timeout` .*at most 2147483 s/],
    ['a heartbeat over 2^31 ms (5)', ['daemon', ...H, '--heartbeat', '3000000'], /^delayd: E_BAD_OPTION: Expected `--heartbeat` .*at most 2147483 s/],
    ['a drain timeout over 2^31 ms (5)', ['daemon', ...H, '--drain-timeout', '3000000'], /^delayd: E_BAD_OPTION: Expected `--drain-timeout` .*at most 2147483 s/],
    ['a lease over 2^31 ms (5)', ['daemon', ...H, '--lease', '3000000'], /^delayd: E_BAD_OPTION: Expected `--lease` .*at most 2147483 s/],
    ['--concurrency 0, by its flag name (16)', ['daemon', ...H, '--concurrency', '0'], /^delayd: E_BAD_OPTION: Expected `--concurrency` to be an integer >= 1/],
    ['an unknown log level (17)', ['daemon', ...H, '--log-level', 'bogus'], /^delayd: E_BAD_OPTION: Expected --log-level to be one of fatal, error, warn, info, debug, trace, silent, got `"bogus"`/],
    ['an unknown state (17)', ['list', '--state', 'bogus'], /^delayd: E_BAD_OPTION: Expected `--state` to be one of/],
    ['purge older than the Date range (6)', ['purge', '--older-than', '99999999999999999999d'], /^delayd: E_BAD_OPTION: Expected `--older-than` to be a duration of at most 100000d/],
    ['an eta that is not ISO 8601 (8)', ['enqueue', 'fast', '--eta', 'x 5'], /^delayd: E_BAD_ETA: Expected `--eta` to be unix milliseconds, YYYY-MM-DD/],
    ['an English date (8)', ['enqueue', 'fast', '--eta', 'Jan 1 2030'], /^delayd: E_BAD_ETA: /],
    ['an RFC 2822 date (8)', ['enqueue', 'fast', '--eta', 'Mon, 01 Jan 2029 00:00:00 GMT'], /^delayd: E_BAD_ETA: /],
    ['an impossible date (8)', ['enqueue', 'fast', '--eta', '2030-02-30T00:00:00Z'], /^delayd: E_BAD_ETA: .*2030-02 has no day 30/],
    ['a date-time without a zone (8)', ['enqueue', 'fast', '--eta', '2030-01-01T09:00'], /^delayd: E_BAD_ETA: Expected `--eta` to say its zone, .*add Z for UTC \(2030-01-01T09:00Z\) or an offset such as 2030-01-01T09:00\+01:00/],
    ['reschedule to an impossible date (8)', ['reschedule', '1', '--eta', '2030-02-30'], /^delayd: E_BAD_ETA: .*has no day 30/],
    ['an integer beyond 2^53 in --args (17)', ['enqueue', 'fast', '--args', '[12345678901234567890]'], /^delayd: E_BAD_ARGS: .*holds the integer 12345678901234567890, which loses precision as a JSON number; pass it as a string/],
    ['a hexadecimal countdown (17)', ['enqueue', 'fast', '--countdown', '0x10'], /^delayd: E_BAD_OPTION: Expected `--countdown` to be a decimal number, got `"0x10"`/],
    ['a countdown of 1e (17)', ['enqueue', 'fast', '--countdown', '1e'], /^delayd: E_BAD_OPTION: Expected `--countdown` to be a decimal number/],
    ['a countdown of Infinity (17)', ['enqueue', 'fast', '--countdown', 'Infinity'], /^delayd: E_BAD_OPTION: Expected `--countdown` to be a decimal number/],
    ['terminal escapes in a name (17)', ['enqueue', 'evil\u001b[2J\u001b]0;owned\u0007'], /^delayd: E_BAD_NAME: Expected a task name without control characters or lone surrogates, got "evil\\u001b\[2J/],
    ['a newline in a name (17)', ['enqueue', 'a\nb'], /^delayd: E_BAD_NAME: /],
    ['a lone surrogate in a --file name (17)', ['enqueue', '--file', 'FILE:surrogate.jsonl'], /^delayd: E_BAD_NAME: line 1: Expected a task name without control characters/],
    ['an integer beyond 2^53 in a --file line (17)', ['enqueue', '--file', 'FILE:bigint.jsonl'], /^delayd: E_BAD_ARGS: line 2: .*loses precision; pass it as a string|^delayd: E_BAD_ARGS: line 2: .*pass it as a string/],
    ['a line longer than the limit (17)', ['enqueue', '--file', 'FILE:long-line.jsonl'], /^delayd: E_ARGS_TOO_LARGE: line 2: Expected a line of at most 131072 bytes, got a longer one .*; nothing was written/],
  ] as const)('%s', async (_, args, message) => {
    writeFileSync(join(tmp.dir, 'surrogate.jsonl'), '{"name": "\\ud800x"}\n');
    writeFileSync(join(tmp.dir, 'bigint.jsonl'), '{"name": "fast"}\n{"name": "fast", "args": [12345678901234567890]}\n');
    writeFileSync(join(tmp.dir, 'long-line.jsonl'), `{"name": "fast"}\n{"name": "fast", "args": ["${'x'.repeat(300_000)}"]}\n`);
    const before = snapshot(base);
    const resolved = args.map((a) => (a.startsWith('FILE:') ? join(tmp.dir, a.slice(5)) : a));
    expectOneError(await cli([...resolved, '--db', base]), 1, message);
    expect(snapshot(base)).toBe(before);
  });

  it.each([
    ['--db :memory: (4)', ['enqueue', 'fast', '--db', ':memory:'], {}, /^delayd: E_BAD_OPTION: Expected --db to be a SQLite file path, got `":memory:"` \(string\): an in-memory or temporary database would be gone when the command ends/],
    ['--db "" (4)', ['enqueue', 'fast', '--db', ''], {}, /^delayd: E_BAD_OPTION: Expected --db to be a SQLite file path, got `""`/],
    ['$DELAYD_DB=:memory: (4)', ['enqueue', 'fast'], { DELAYD_DB: ':memory:' }, /^delayd: E_BAD_OPTION: Expected \$DELAYD_DB to be a SQLite file path/],
    ['stats --db :memory: (4)', ['stats', '--db', ':memory:'], {}, /^delayd: E_BAD_OPTION: /],
    ['a daemon on :memory: (4)', ['daemon', ...H, '--db', ':memory:'], {}, /^delayd: E_BAD_OPTION: /],
    ['--db mongodb:// (issue 10, 7)', ['enqueue', 'fast', '--db', 'mongodb://127.0.0.1:27017'], {}, /^delayd: E_BAD_DB_URL: delayd has no backend for mongodb:\/\/ yet; --db takes a SQLite file path \(or a file: URL\)/],
    ['--db with a malformed redis:// (issue 12)', ['enqueue', 'fast', '--db', 'redis://127.0.0.1:notaport'], {}, /^delayd: E_BAD_DB_URL: Expected --db to be redis:/],
    ['stats --db postgres://', ['stats', '--db', 'postgres://db/app'], {}, /^delayd: E_BAD_DB_URL: delayd has no backend for postgres:\/\/ yet/],
    ['a daemon on a malformed redis://', ['daemon', ...H, '--db', 'redis://127.0.0.1:99999'], {}, /^delayd: E_BAD_DB_URL: /],
    ['$DELAYD_DB=postgres://', ['enqueue', 'fast'], { DELAYD_DB: 'postgres://h:5432' }, /^delayd: E_BAD_DB_URL: .*\$DELAYD_DB takes a SQLite file path/],
    ['--db in a directory that does not exist (16)', ['enqueue', 'fast', '--db', 'nodir/x.db'], {}, /^delayd: E_DB_MISSING: nodir\/x.db: the directory "nodir" does not exist/],
    ['a daemon with --db in a directory that does not exist (16)', ['daemon', ...H, '--db', 'nodir/x.db'], {}, /^delayd: E_DB_MISSING: /],
    ['--db that is a directory (16)', ['enqueue', 'fast', '--db', 'adir'], {}, /^delayd: E_BAD_OPTION: Expected --db to be a SQLite file, got "adir", which is a directory/],
  ] as const)('%s creates no file', async (_, args, env, message) => {
    const cwd = join(tmp.dir, `cwd-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(cwd, 'adir'), { recursive: true });
    expectOneError(await cli(args, { cwd, env: cleanEnv(env) }), 1, message);
    expect(readdirSync(cwd)).toEqual(['adir']);
    expect(readdirSync(join(cwd, 'adir'))).toEqual([]);
  });
});
