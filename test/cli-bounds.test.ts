/**
 * The pure checks behind delay(), task() and the scheduler options: policy overrides only as
 * given, due times within what a Date holds, timer durations within what Node keeps, eta
 * strings as ISO 8601 only, names without control characters, db paths without URL schemes.
 */
import { describe, expect, it } from 'vitest';
import { buildBatch } from '../src/batch-build.js';
import { checkDbPath, resolveOptions } from '../src/config.js';
import { parseEtaString } from '../src/eta.js';
import { DelaydError } from '../src/errors.js';
import { buildNewTask, buildRow, checkName, checkTaskOptions, etaToMs, retryDelayMs, rowBase } from '../src/validate.js';

const NOW = Date.parse('2030-01-01T09:00:00.000Z');
const row = (when: unknown) => buildNewTask({ name: 'job', args: [], when, nowMs: NOW, maxArgsBytes: 1024 });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof DelaydError) return `${error.code}: ${error.message}`;
    throw error;
  }
  return 'no error';
}

describe('policy overrides', () => {
  it('a row carries only the policy its own call gives', () => {
    expect(row(undefined)).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null, dueMs: NOW });
    expect(row(5)).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null, dueMs: NOW + 5000 });
    expect(row({ retries: 2 })).toMatchObject({ retries: 2, backoffMs: null, timeoutMs: null });
    expect(row({ backoff: 0.25, timeout: 9 })).toMatchObject({ retries: null, backoffMs: 250, timeoutMs: 9000 });
    expect(buildRow(rowBase('job', NOW, 1024), [1], { retries: 0 })).toMatchObject({ retries: 0, args: '[1]' });
  });

  it('a batch: items carry only the map options; the reduce row none', () => {
    const reduce = Object.assign(() => undefined, { taskName: 'sum' });
    const { batch, tasks } = buildBatch({ name: 'part', items: [[1], [2]], options: { retries: 1, reduce }, nowMs: NOW, maxArgsBytes: 1024 });
    expect(tasks.map((t) => [t.retries, t.backoffMs, t.timeoutMs])).toEqual([[1, null, null], [1, null, null]]);
    expect(batch.reduce).toEqual({ name: 'sum', retries: null, backoffMs: null, timeoutMs: null });
  });

  it('task() takes maxCutOffs from 0 to 1000; the scheduler defaults it to 3', () => {
    expect(checkTaskOptions({ maxCutOffs: 0 }).maxCutOffs).toBe(0);
    expect(codeOf(() => checkTaskOptions({ maxCutOffs: 1.5 }))).toMatch(/^E_BAD_OPTION: Expected `maxCutOffs` to be an integer from 0 to 1000/);
    expect(resolveOptions({ db: 'x.db' }).maxCutOffs).toBe(3);
    expect(resolveOptions({ db: 'x.db', maxCutOffs: 7 }).maxCutOffs).toBe(7);
    expect(codeOf(() => resolveOptions({ maxCutOffs: -1 }))).toMatch(/^E_BAD_OPTION: Expected `maxCutOffs` to be an integer from 0 to 1000/);
  });
});

describe('bounds', () => {
  it.each([
    ['a countdown past the Date range', { countdown: 1e13 }, /^E_BAD_COUNTDOWN: .*due time stays within 8640000000000000 unix ms/],
    ['a countdown of 1e308', 1e308, /^E_BAD_COUNTDOWN: .*8640000000000000/],
    ['a countdown just past the range from now', (8.64e15 - NOW) / 1000 + 1, /^E_BAD_COUNTDOWN/],
    ['a backoff of 1e306', { backoff: 1e306, retries: 1 }, /^E_BAD_OPTION: Expected `backoff` .* \(at most 2147483 s\)/],
    ['a backoff above 2147483 s', { backoff: 2_147_484 }, /^E_BAD_OPTION: .*at most 2147483 s/],
    ['a timeout above 2^31 ms', { timeout: 3_000_000 }, /^E_BAD_OPTION: Expected `timeout` .*at most 2147483 s/],
    ['a timeout that rounds to 0 ms', { timeout: 0.0004 }, /^E_BAD_OPTION: Expected `timeout` to be a number of seconds from 0.001/],
    ['an eta past the Date range', { eta: 8.64e15 + 1 }, /^E_BAD_ETA: .*\+275760-09-13/],
    ['a negative eta', { eta: -1 }, /^E_BAD_ETA/],
  ])('%s is refused', (_, when, message) => {
    expect(codeOf(() => row(when))).toMatch(message);
  });

  it('the largest values still allowed', () => {
    expect(row({ countdown: (8.64e15 - NOW) / 1000 }).dueMs).toBe(8.64e15);
    expect(row({ backoff: 2_147_483, timeout: 2_147_483 })).toMatchObject({ backoffMs: 2_147_483_000, timeoutMs: 2_147_483_000 });
    expect(row({ timeout: 0.001 }).timeoutMs).toBe(1);
    expect(checkTaskOptions({ timeout: 0.001, backoff: 0 })).toMatchObject({ timeout: 0.001, backoff: 0 });
    expect(codeOf(() => checkTaskOptions({ timeout: 3_000_000 }))).toMatch(/at most 2147483 s/);
  });

  it('retry seconds keep the due time within the Date range', () => {
    expect(retryDelayMs(1.5, NOW)).toBe(1500);
    expect(codeOf(() => retryDelayMs(1e306, NOW))).toMatch(/^E_BAD_OPTION: Expected retry seconds/);
    expect(codeOf(() => retryDelayMs(1e13, NOW))).toMatch(/^E_BAD_OPTION/);
    expect(codeOf(() => retryDelayMs(-1, NOW))).toMatch(/^E_BAD_OPTION/);
  });

  it('scheduler durations that become timers are at most 2^31 - 1 ms', () => {
    for (const key of ['heartbeatMs', 'leaseMs', 'drainMs']) {
      expect(codeOf(() => resolveOptions({ db: 'x.db', [key]: 3_000_000_000 }))).toMatch(new RegExp(`^E_BAD_OPTION: Expected \`${key}\` to be an integer from \\d+ to 2147483647`));
      expect((resolveOptions({ db: 'x.db', [key]: 2_147_483_647 }) as unknown as Record<string, number>)[key]).toBe(2_147_483_647);
    }
    expect(codeOf(() => resolveOptions({ db: 'x.db', lookaheadMs: 1000 }))).toMatch(/`lookaheadMs` to be an integer from 0 to 999/);
  });
});

describe('eta strings', () => {
  it.each([
    ['2030-01-01T09:00:00Z', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T09:00Z', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T10:00:00+01:00', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T04:00:00-05:00', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T09:00:00.123Z', Date.UTC(2030, 0, 1, 9) + 123],
    ['2030-01-01T09:00:00.0001Z', Date.UTC(2030, 0, 1, 9) + 1],
    ['2030-01-01', Date.UTC(2030, 0, 1)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
    ['1893456000000', 1_893_456_000_000],
  ])('%s', (text, ms) => {
    expect(parseEtaString(text)).toBe(ms);
    expect(etaToMs(text)).toBe(ms);
  });

  it.each([
    ['12', /^E_BAD_ETA/], // all digits: unix ms, so 12 ms after 1970, not refused
    ['x 5', /^E_BAD_ETA: Expected `eta` to be unix milliseconds, YYYY-MM-DD/],
    ['Jan 1 2030', /^E_BAD_ETA/],
    ['Mon, 01 Jan 2029 00:00:00 GMT', /^E_BAD_ETA/],
    ['2030-02-30T00:00:00Z', /2030-02 has no day 30/],
    ['2029-02-29', /2029-02 has no day 29/],
    ['2030-13-01', /there is no month 13/],
    ['2030-01-01T24:00:00Z', /is not a time of day/],
    ['2030-01-01T09:00:00+25:00', /is not a UTC offset/],
    ['2030-01-01T09:00', /without one: add Z for UTC \(2030-01-01T09:00Z\) or an offset such as 2030-01-01T09:00\+01:00/],
    ['', /^E_BAD_ETA/],
    [' 2030-01-01', /^E_BAD_ETA/],
    ['99999999999999999', /^E_BAD_ETA: .*0 to 8640000000000000 unix ms/],
  ])('%s is refused', (text, message) => {
    if (text === '12') {
      expect(parseEtaString(text)).toBe(12);
      return;
    }
    expect(codeOf(() => parseEtaString(text))).toMatch(message);
  });

  it('an offset-less date-time is refused in every zone, so hosts agree', () => {
    expect(codeOf(() => etaToMs('2030-01-01T09:00:00'))).toMatch(/^E_BAD_ETA: Expected `eta` to say its zone/);
  });
});

describe('names', () => {
  it.each([['evil\u001b[2J'], ['a\nb'], ['nul\u0000'], ['del\u007f'], ['c1\u0085'], ['lone\ud800'], ['\udc00x']])('%j is refused', (name) => {
    expect(codeOf(() => checkName(name))).toMatch(/^E_BAD_NAME: Expected a task name without control characters or lone surrogates/);
  });
  it('letters of any script, emoji and punctuation are fine', () => {
    for (const name of ['send_email', 'mailer.bye', 'größe', '送信', 'rocket🚀', 'a b-c/d:e']) expect(checkName(name)).toBe(name);
  });
});

describe('checkDbPath', () => {
  it.each(['mongodb://127.0.0.1:27017', 'postgres://db/app', 'https://example.com/x.db', 'POSTGRES://h'])('%s is refused', (url) => {
    expect(codeOf(() => checkDbPath(url, '--db'))).toMatch(/^E_BAD_DB_URL: delayd has no backend for [a-z]+:\/\/ yet; --db takes a SQLite file path \(or a file: URL\)/);
  });
  it('paths stay as they are; file: URLs become paths', () => {
    expect(checkDbPath('./delayd.db')).toBe('./delayd.db');
    expect(checkDbPath('/var/lib/app/x.db')).toBe('/var/lib/app/x.db');
    expect(checkDbPath('file:///var/lib/app/my%20x.db')).toBe('/var/lib/app/my x.db');
    expect(checkDbPath('file:data/x.db')).toBe('data/x.db');
    expect(checkDbPath('C:\\data\\x.db')).toBe('C:\\data\\x.db');
    expect(resolveOptions({ db: 'file:///tmp/y.db' }).db).toBe('/tmp/y.db');
    expect(codeOf(() => resolveOptions({ db: 'postgres://h:1' }))).toMatch(/^E_BAD_DB_URL: .*`db` takes a SQLite file path/);
  });
  it('Redis URLs (issue 12) stay as they are; a malformed one is refused before anything connects', () => {
    for (const url of ['redis://127.0.0.1:7001', 'rediss://u:p@h:6380/2', 'redis+cluster://a:7000,b:7001', 'REDIS://h']) expect(checkDbPath(url)).toBe(url);
    for (const url of ['redis://h:notaport', 'redis://h:70000', 'redis://a:1,b:2', 'redis://h:1/x', 'redis+cluster://a:1/3', 'redis://h:1?x=1']) {
      expect(codeOf(() => checkDbPath(url, '--db'))).toMatch(/^E_BAD_DB_URL: Expected --db to be redis:\/\/\[user:password@\]host:port\[\/db\]/);
    }
    expect(resolveOptions({ db: 'redis://h:1', shards: 8, replicas: 1 })).toMatchObject({ db: 'redis://h:1', shards: 8, replicas: 1 });
    expect(codeOf(() => resolveOptions({ db: 'redis://h:1', shards: 0 }))).toMatch(/^E_BAD_OPTION: Expected `shards` to be an integer from 1 to 1024/);
  });
});
