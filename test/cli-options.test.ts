/** The pure mapping from argv to options, and the small parsers the CLI is built from. */
import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/errors.js';
import { formatDuration, parseDuration, relativeTime } from '../src/cli/lib/duration.js';
import { commandWord } from '../src/cli/main.js';
import { toStoreTarget, toTaskId, withFlagNames } from '../src/cli/lib/argv.js';
import { moduleUrl, toDaemonOptions } from '../src/cli/commands/daemon.js';
import { enqueueShapeProblem, toEnqueueRequest } from '../src/cli/commands/enqueue.js';
import { toListFilter } from '../src/cli/commands/inspect.js';
import { rescheduleShapeProblem, toPurgeAgeMs, toReschedule } from '../src/cli/commands/manage.js';
import { escapeText, formatFields, formatTable, truncate } from '../src/cli/lib/table.js';
import { checkDelayOptions, dueMsOf } from '../src/validate.js';

const context = { env: {}, cwd: '/srv/app', stdoutIsTTY: false };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DelaydError) return error.code;
    throw error;
  }
  return undefined;
}

describe('toStoreTarget: defaults < environment < flags', () => {
  it('uses ./delayd.db and a 5 s busy timeout by default', () => {
    expect(toStoreTarget({}, {})).toEqual({ db: './delayd.db', busyTimeoutMs: 5000 });
  });
  it('takes DELAYD_DB and DELAYD_BUSY_TIMEOUT from the environment', () => {
    expect(toStoreTarget({}, { DELAYD_DB: '/var/a.db', DELAYD_BUSY_TIMEOUT: '0.25' })).toEqual({ db: '/var/a.db', busyTimeoutMs: 250 });
  });
  it('lets flags win over the environment', () => {
    expect(toStoreTarget({ db: 'b.db', busyTimeout: '2' }, { DELAYD_DB: '/var/a.db', DELAYD_BUSY_TIMEOUT: '9' })).toEqual({ db: 'b.db', busyTimeoutMs: 2000 });
  });
  it('refuses a busy timeout that is not a number >= 0', () => {
    expect(codeOf(() => toStoreTarget({ busyTimeout: 'soon' }, {}))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toStoreTarget({ busyTimeout: '-1' }, {}))).toBe('E_BAD_OPTION');
  });
});

describe('toDaemonOptions', () => {
  it('maps seconds to milliseconds and resolves handler paths against the cwd', () => {
    const options = toDaemonOptions(
      { handlers: ['./h.js', '/abs/other.js'], concurrency: '4', queueSize: '50', drainTimeout: '2.5', lease: '3', heartbeat: '0.5', logLevel: 'debug' },
      context,
    );
    expect(options).toEqual({
      db: './delayd.db',
      busyTimeoutMs: 5000,
      handlers: ['file:///srv/app/h.js', 'file:///abs/other.js'],
      concurrency: 4,
      queueSize: 50,
      drainMs: 2500,
      leaseMs: 3000,
      heartbeatMs: 500,
      logLevel: 'debug',
      pretty: false,
    });
  });
  it('leaves unset numbers to the scheduler defaults', () => {
    const options = toDaemonOptions({ handlers: ['h.js'] }, context);
    expect(options.concurrency).toBeUndefined();
    expect(options.drainMs).toBeUndefined();
    expect(options.logLevel).toBe('info');
  });
  it('is pretty exactly when stdout is a terminal', () => {
    expect(toDaemonOptions({ handlers: ['h.js'] }, { ...context, stdoutIsTTY: true }).pretty).toBe(true);
  });
  it('takes the log level from DELAYD_LOG_LEVEL unless --log-level is given', () => {
    expect(toDaemonOptions({ handlers: ['h.js'] }, { ...context, env: { DELAYD_LOG_LEVEL: 'warn' } }).logLevel).toBe('warn');
    expect(toDaemonOptions({ handlers: ['h.js'], logLevel: 'error' }, { ...context, env: { DELAYD_LOG_LEVEL: 'warn' } }).logLevel).toBe('error');
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'] }, { ...context, env: { DELAYD_LOG_LEVEL: 'loud' } }))).toBe('E_BAD_OPTION');
  });
  it('refuses non-numbers, fractions where an integer is due, and no handlers', () => {
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'], concurrency: 'many' }, context))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'], shards: '0' }, context))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'], replicas: '-1' }, context))).toBe('E_BAD_OPTION');
    expect(toDaemonOptions({ handlers: ['h.js'], shards: '4', replicas: '0', db: 'redis://127.0.0.1:1' }, context)).toMatchObject({ shards: 4, replicas: 0 });
    expect(toDaemonOptions({ handlers: ['h.js'] }, context)).not.toHaveProperty('shards');
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'], queueSize: '1.5' }, context))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toDaemonOptions({ handlers: ['h.js'], lease: '0' }, context))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toDaemonOptions({ handlers: [] }, context))).toBe('E_BAD_OPTION');
  });
  it('allows a drain timeout of 0 (put back at once)', () => {
    expect(toDaemonOptions({ handlers: ['h.js'], drainTimeout: '0' }, context).drainMs).toBe(0);
  });
  it('keeps file: URLs as they are', () => {
    expect(moduleUrl('file:///x/y.js', '/elsewhere')).toBe('file:///x/y.js');
  });
});

describe('toEnqueueRequest', () => {
  it('maps one task: JSON args and delay options as numbers', () => {
    expect(toEnqueueRequest({ name: 'send', args: '["a", 1]', countdown: '1.5', key: 'k', retries: '2', backoff: '3', timeout: '4' })).toEqual({
      kind: 'one',
      task: { name: 'send', args: ['a', 1], when: { countdown: 1.5, key: 'k', retries: 2, backoff: 3, timeout: 4 } },
    });
  });
  it('defaults args to [] and passes an eta through for validate.ts to check', () => {
    expect(toEnqueueRequest({ name: 'send', eta: '2030-01-01T00:00:00Z' })).toEqual({
      kind: 'one',
      task: { name: 'send', args: [], when: { eta: '2030-01-01T00:00:00Z' } },
    });
  });
  it('keeps a negative countdown for the core to refuse with its own message', () => {
    const request = toEnqueueRequest({ name: 'send', countdown: '-1' });
    expect(request.kind === 'one' && request.task.when.countdown).toBe(-1);
  });
  it('refuses --args that is not JSON, saying what came', () => {
    expect(() => toEnqueueRequest({ name: 'send', args: '[1,' })).toThrow(/Expected `--args` to be a JSON array.*got `"\[1,"`/);
  });
  it('refuses a countdown that is not a number', () => {
    expect(() => toEnqueueRequest({ name: 'send', countdown: 'soon' })).toThrow(/Expected `--countdown` to be a decimal number, got `"soon"`/);
    for (const raw of ['0x10', '1e', 'Infinity', '-Infinity', '0b1', '', ' ', '1_000', 'NaN']) {
      expect(() => toEnqueueRequest({ name: 'send', countdown: raw })).toThrow(/Expected `--countdown` to be a decimal number/);
    }
    expect(toEnqueueRequest({ name: 'send', countdown: ' 1.5e2 ' })).toMatchObject({ task: { when: { countdown: 150 } } });
    expect(toEnqueueRequest({ name: 'send', countdown: '.5' })).toMatchObject({ task: { when: { countdown: 0.5 } } });
  });
  it('takes --file alone', () => {
    expect(toEnqueueRequest({ file: 'tasks.jsonl' })).toEqual({ kind: 'file', file: 'tasks.jsonl' });
    expect(enqueueShapeProblem({ file: '-', name: 'x', countdown: '1' })).toBe('--file takes no NAME, --countdown: each line carries its own name and options');
    expect(enqueueShapeProblem({})).toBe('Give a task NAME, or --file FILE');
    expect(enqueueShapeProblem({ name: 'x' })).toBeUndefined();
  });
});

describe('the other commands', () => {
  it('toListFilter: only what was given; limit a positive integer', () => {
    expect(toListFilter({})).toEqual({});
    expect(toListFilter({ state: 'failed', name: 'send', limit: '5' })).toEqual({ state: 'failed', name: 'send', limit: 5 });
    expect(codeOf(() => toListFilter({ limit: '0' }))).toBe('E_BAD_OPTION');
    expect(codeOf(() => toListFilter({ limit: 'all' }))).toBe('E_BAD_OPTION');
  });
  it('toTaskId: positive integers only', () => {
    expect(toTaskId('42')).toBe(42);
    for (const bad of ['0', '-3', '1.5', 'abc', '', undefined]) expect(codeOf(() => toTaskId(bad))).toBe('E_BAD_OPTION');
  });
  it('toReschedule: a countdown or an eta', () => {
    expect(toReschedule({ id: '7', countdown: '60' })).toEqual({ id: 7, when: { countdown: 60 } });
    expect(toReschedule({ id: '7', eta: '2030-01-01T00:00:00Z' })).toEqual({ id: 7, when: { eta: '2030-01-01T00:00:00Z' } });
    expect(rescheduleShapeProblem({ id: '7' })).toMatch(/--countdown SECONDS or --eta/);
  });
  it('toPurgeAgeMs: a duration with units', () => {
    expect(toPurgeAgeMs({ olderThan: '7d' })).toBe(7 * 86_400_000);
    expect(() => toPurgeAgeMs({ olderThan: '7' })).toThrow(/Expected `--older-than` to be a duration such as 30s, 15m, 12h or 7d, got `"7"`/);
  });
  it('commandWord: skips options and the values of global options', () => {
    expect(commandWord(['--db', 'x.db', 'stats', '--json'])).toBe('stats');
    expect(commandWord(['--busy-timeout', '1', 'frob'])).toBe('frob');
    expect(commandWord(['--help'])).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    [' 10S ', 10_000],
    ['0s', 0],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', '7', 'd', '7x', '-1d', '1d-', 'h1', '1 d'])('refuses %j', (text) => {
    expect(codeOf(() => parseDuration(text))).toBe('E_BAD_OPTION');
  });
  it('refuses what is not a string', () => {
    expect(codeOf(() => parseDuration(undefined))).toBe('E_BAD_OPTION');
  });
});

describe('formatDuration and relativeTime', () => {
  it.each([
    [850, '850ms'],
    [4_000, '4s'],
    [200_000, '3m20s'],
    [3_600_000, '1h'],
    [7_500_000, '2h5m'],
    [273_600_000, '3d4h'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it('says in, ago, or now', () => {
    expect(relativeTime(10_000, 6_000)).toBe('in 4s');
    expect(relativeTime(0, 200_000)).toBe('3m20s ago');
    expect(relativeTime(1_000, 1_400)).toBe('now');
  });
});

describe('tables', () => {
  it('aligns columns, numbers to the right, with no trailing spaces', () => {
    expect(formatTable(['ID', 'NAME', 'STATE'], [[1, 'send', 'scheduled'], [100, 'x', null]])).toBe(
      [' ID  NAME  STATE', '  1  send  scheduled', '100  x     -', ''].join('\n'),
    );
  });
  it('indents multi-line values under their key', () => {
    expect(formatFields([['id', 1], ['last error', 'Error: x\n    at y']])).toBe(
      ['id          1', 'last error  Error: x', '                at y', ''].join('\n'),
    );
  });
  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});

describe('bad values from flags and the environment', () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return `${(error as DelaydError).code}: ${(error as Error).message}`;
    }
    return 'no error';
  };

  it('--db and $DELAYD_DB: no URL scheme, no in-memory database, not empty', () => {
    expect(message(() => toStoreTarget({ db: 'mongodb://127.0.0.1:27017' }, {}))).toMatch(/^E_BAD_DB_URL: delayd has no backend for mongodb:\/\/ yet; --db takes a SQLite file path \(or a file: URL\)/);
    expect(message(() => toStoreTarget({ db: 'redis://127.0.0.1:nope' }, {}))).toMatch(/^E_BAD_DB_URL: Expected --db to be redis:/);
    expect(message(() => toStoreTarget({}, { DELAYD_DB: 'postgres://db/app' }))).toMatch(/^E_BAD_DB_URL: .*\$DELAYD_DB takes a SQLite file path/);
    for (const db of [':memory:', '', ' ', 'file::memory:']) {
      expect(message(() => toStoreTarget({ db }, {}))).toMatch(/^E_BAD_OPTION: Expected --db to be a SQLite file path, got .*in-memory or temporary database would be gone/);
    }
    expect(message(() => toStoreTarget({}, { DELAYD_DB: '' }))).toMatch(/^E_BAD_OPTION: Expected \$DELAYD_DB to be a SQLite file path/);
    expect(toStoreTarget({ db: 'file:///tmp/x.db' }, {}).db).toBe('/tmp/x.db');
    expect(toStoreTarget({}, { DELAYD_DB: 'env.db' }).db).toBe('env.db');
  });

  it('durations that become timers are at most 2147483 s; the daemon flags say their own names', () => {
    expect(message(() => toStoreTarget({ busyTimeout: '3000000' }, {}))).toMatch(/^E_BAD_OPTION: Expected `--busy-timeout` to be a number of seconds from 0 to 2147483 \(at most 2147483 s\)/);
    expect(message(() => toStoreTarget({}, { DELAYD_BUSY_TIMEOUT: '3000000' }))).toMatch(/`\$DELAYD_BUSY_TIMEOUT`/);
    const daemon = (extra: Record<string, string>) => message(() => toDaemonOptions({ handlers: ['h.js'], ...extra }, context));
    expect(daemon({ heartbeat: '3000000' })).toMatch(/^E_BAD_OPTION: Expected `--heartbeat` to be a number of seconds from 0.001 to 2147483/);
    expect(daemon({ lease: '3000000' })).toMatch(/`--lease`.*at most 2147483 s/);
    expect(daemon({ drainTimeout: '3000000' })).toMatch(/`--drain-timeout`.*at most 2147483 s/);
    expect(daemon({ heartbeat: '0.0004' })).toMatch(/`--heartbeat` to be a number of seconds from 0.001/);
    expect(daemon({ concurrency: '0' })).toMatch(/^E_BAD_OPTION: Expected `--concurrency` to be an integer >= 1, got `"0"`/);
    expect(daemon({ logLevel: 'bogus' })).toMatch(/^E_BAD_OPTION: Expected --log-level to be one of fatal, error/);
    expect(message(() => toDaemonOptions({ handlers: ['h.js'] }, { ...context, env: { DELAYD_LOG_LEVEL: 'loud' } }))).toMatch(/\$DELAYD_LOG_LEVEL/);
  });

  it('list --state must be a state', () => {
    expect(message(() => toListFilter({ state: 'bogus' }))).toMatch(/^E_BAD_OPTION: Expected `--state` to be one of scheduled, running, succeeded, failed, cancelled, got `"bogus"`/);
    expect(toListFilter({ state: 'failed' })).toEqual({ state: 'failed' });
  });

  it('--args: integers beyond 2^53 are refused, not rounded', () => {
    expect(message(() => toEnqueueRequest({ name: 'send', args: '[12345678901234567890]' }))).toMatch(/^E_BAD_ARGS: .*holds the integer 12345678901234567890, which loses precision as a JSON number; pass it as a string/);
    expect(message(() => toEnqueueRequest({ name: 'send', args: '[{"a": "x\\"", "n": -98765432109876543210}]' }))).toMatch(/-98765432109876543210/);
    expect(toEnqueueRequest({ name: 'send', args: '["12345678901234567890", 9007199254740991, 1e300]' })).toMatchObject({ task: { args: ['12345678901234567890', 9007199254740991, 1e300] } });
  });

  it('withFlagNames names the flags in the core\'s messages', () => {
    expect(message(() => withFlagNames(() => dueMsOf(checkDelayOptions({ countdown: -1 }), 0)))).toMatch(/^E_BAD_COUNTDOWN: Expected `--countdown` to be/);
    expect(message(() => withFlagNames(() => dueMsOf(checkDelayOptions({ eta: '2030-01-01T09:00' }), 0)))).toMatch(/^E_BAD_ETA: Expected `--eta` to say its zone/);
  });
});

describe('escapeText', () => {
  it('shows control characters and lone surrogates as escapes', () => {
    expect(escapeText('evil\u001b[2J\u001b]0;owned\u0007')).toBe('evil\\x1b[2J\\x1b]0;owned\\x07');
    expect(escapeText('a\nb\tc\u0085\u007f\ud800')).toBe('a\\nb\\tc\\x85\\x7f\\ud800');
    expect(escapeText('a\nb', true)).toBe('a\nb');
    expect(escapeText('größe 送信 🚀')).toBe('größe 送信 🚀');
    expect(formatTable(['NAME'], [['x\u001b[2J']])).toBe('NAME\nx\\x1b[2J\n');
  });
});
