/**
 * `enqueue --file` without a process: every line of a batch is checked before the batch is
 * written in one insert; a bad line stops everything from its batch on and says which lines
 * were committed. Also: which task names no live daemon serves.
 */
import { describe, expect, it, vi } from 'vitest';
import { enqueueLines, parseLine } from '../src/cli/lib/enqueue-lines.js';
import { servedBy, unservedCounts, unservedNames, unservedWarning } from '../src/cli/lib/serving.js';
import { DelaydError } from '../src/errors.js';
import type { Inserted, NewTask, WorkerRow } from '../src/store/types.js';

const NOW = Date.parse('2030-01-01T09:00:00.000Z');

/** The lines two at a time, so that reads and batches do not line up. */
async function* linesOf(lines: readonly string[]) {
  for (let i = 0; i < lines.length; i += 2) yield lines.slice(i, i + 2);
}

function fakeStore() {
  const batches: NewTask[][] = [];
  const keys = new Set<string>();
  let id = 0;
  const insert = async (rows: readonly NewTask[]): Promise<Inserted[]> => {
    batches.push([...rows]);
    return rows.map((row) => {
      const created = row.key === null || !keys.has(row.key);
      if (row.key !== null) keys.add(row.key);
      return { id: ++id, dueMs: row.dueMs, created };
    });
  };
  return { batches, insert };
}

describe('parseLine', () => {
  it('reads name, args and delay options, like delay()', () => {
    expect(parseLine('{"name": "send", "args": ["a"], "countdown": 5, "key": "k", "retries": 2}', NOW)).toEqual({
      name: 'send',
      args: '["a"]',
      dueMs: NOW + 5000,
      createdMs: NOW,
      key: 'k',
      retries: 2,
      backoffMs: null,
      timeoutMs: null,
    });
  });
  it('leaves the policy to the handler unless the line gives it (null: not given)', () => {
    expect(parseLine('{"name": "send"}', NOW)).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null });
    expect(parseLine('{"name": "send", "countdown": 1}', NOW)).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null });
    expect(parseLine('{"name": "send", "retries": 0, "backoff": 2, "timeout": 3}', NOW)).toMatchObject({ retries: 0, backoffMs: 2000, timeoutMs: 3000 });
  });
  it('refuses integers that a JavaScript number cannot hold exactly', () => {
    expect(() => parseLine('{"name": "send", "args": [12345678901234567890]}', NOW)).toThrow(/holds the integer 12345678901234567890, which loses precision as a JSON number; pass it as a string/);
    expect(parseLine('{"name": "send", "args": ["12345678901234567890", 9007199254740991, 1.2345678901234567e19]}', NOW).args).toBe('["12345678901234567890",9007199254740991,12345678901234567000]');
  });
  it('defaults args to []', () => {
    expect(parseLine('{"name": "tick"}', NOW).args).toBe('[]');
  });
  it('reads a bare countdown like one among other options', () => {
    expect({ ...parseLine('{"countdown": 1.5, "args": [1], "name": "a"}', NOW), retries: 0 }).toEqual(parseLine('{"name": "a", "args": [1], "countdown": 1.5, "retries": 0}', NOW));
    expect(parseLine('{"name": "a", "countdown": 0.0006}', NOW)).toMatchObject({ dueMs: NOW + 1, args: '[]', key: null });
    expect(parseLine('{"name": "a", "countdown": 5, "countdown": 7}', NOW).dueMs).toBe(NOW + 7000);
  });
  it.each([
    ['no name, before the rest', '{"countdown": -1, "args": 1}', 'E_BAD_NAME', 'Expected a task name to be a non-empty string of at most 200 characters, got `undefined` (undefined)'],
    ['the countdown before the args', '{"name": "x", "args": 1, "countdown": -1}', 'E_BAD_COUNTDOWN', 'Expected `countdown` to be a finite number of seconds >= 0, got `-1` (number)'],
    ['a countdown that is a string', '{"name": "x", "countdown": "5"}', 'E_BAD_COUNTDOWN', 'Expected `countdown` to be a finite number of seconds >= 0, got `"5"` (string)'],
    ['a countdown that is null', '{"name": "x", "countdown": null}', 'E_BAD_COUNTDOWN', 'got `null`'],
    ['a __proto__ field', '{"name": "x", "countdown": 1, "__proto__": {"key": "k"}}', 'E_UNKNOWN_OPTION', 'Unknown option `__proto__` in delay options'],
    ['bad args after a good countdown', '{"name": "x", "args": [1, {"a": null, "b": [true, "s", 1e400]}], "countdown": 1}', 'E_BAD_ARGS', 'Expected args[1].b[2] to be a finite number, got `Infinity` (number)'],
  ])('refuses %s with the same error as delay()', (_, line, code, message) => {
    const error = (() => {
      try {
        parseLine(line, NOW);
      } catch (e) {
        return e as DelaydError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(DelaydError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });
  it.each([
    ['not JSON', '{"name": ', /got a line that is invalid JSON/],
    ['not an object', '[1, 2]', /Expected a JSON object .*got an array/],
    ['no name', '{"args": []}', /task name/],
    ['args not an array', '{"name": "x", "args": 1}', /Expected `args` to be an array, got `1` \(number\)/],
    ['a negative countdown', '{"name": "x", "countdown": -1}', /countdown/],
    ['a bad eta', '{"name": "x", "eta": "soon"}', /eta/],
    ['an unknown field', '{"name": "x", "when": 5}', /when/],
  ])('refuses %s', (_, line, message) => {
    expect(() => parseLine(line, NOW)).toThrow(message);
  });
});

describe('enqueueLines', () => {
  it('writes in batches of batchSize, one insert each, skipping blank lines', async () => {
    const store = fakeStore();
    const lines = Array.from({ length: 7 }, (_, i) => JSON.stringify({ name: i % 2 ? 'a' : 'b', args: [i] }));
    lines.splice(3, 0, '', '   ');
    const result = await enqueueLines({ lines: linesOf(lines), insert: store.insert, now: () => NOW, batchSize: 3 });
    expect(store.batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(result).toMatchObject({ lines: 9, enqueued: 7, deduplicated: 0, batches: 3 });
    expect([...result.names].sort()).toEqual(['a', 'b']);
  });

  it('counts lines whose key matched an unfinished task as deduplicated', async () => {
    const store = fakeStore();
    const line = '{"name": "x", "key": "same"}';
    const result = await enqueueLines({ lines: linesOf([line, line, line]), insert: store.insert, now: () => NOW });
    expect(result).toMatchObject({ enqueued: 1, deduplicated: 2, batches: 1 });
  });

  it('writes nothing when a line of the first batch is bad', async () => {
    const store = fakeStore();
    const lines = ['{"name": "x"}', '{"name": "x"}', '{"name": "x", "countdown": -1}', '{"name": "x"}'];
    const error = await enqueueLines({ lines: linesOf(lines), insert: store.insert, now: () => NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DelaydError);
    expect((error as DelaydError).code).toBe('E_BAD_COUNTDOWN');
    expect((error as Error).message).toMatch(/^line 3: Expected `countdown` to be a finite number of seconds >= 0, got `-1` \(number\); nothing was written$/);
    expect(store.batches).toEqual([]);
  });

  it('keeps the batches before a bad line and says so', async () => {
    const store = fakeStore();
    const lines = [...Array.from({ length: 5 }, () => '{"name": "x"}'), 'oops'];
    const error = await enqueueLines({ lines: linesOf(lines), insert: store.insert, now: () => NOW, batchSize: 2 }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^line 6: .*; lines 1-4 were committed \(4 tasks\); nothing from line 5 on was written$/);
    expect(store.batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('says which lines were committed when the database fails after the first commit', async () => {
    let calls = 0;
    const insert = async (rows: readonly NewTask[]): Promise<Inserted[]> => {
      if (++calls === 2) throw new DelaydError('E_DB_FULL', 'x.db: the disk or database is full (SQLITE_FULL)');
      return rows.map((row, i) => ({ id: i + 1, dueMs: row.dueMs, created: true }));
    };
    const lines = Array.from({ length: 5 }, () => '{"name": "x"}');
    const error = await enqueueLines({ lines: linesOf(lines), insert, now: () => NOW, batchSize: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_DB_FULL' });
    expect((error as Error).message).toBe('x.db: the disk or database is full (SQLITE_FULL); lines 1-3 were committed (3 tasks); nothing from line 4 on was written');
  });

  it('says which lines were committed when reading the input fails', async () => {
    async function* failing() {
      yield ['{"name": "x"}', '{"name": "x"}'];
      throw new DelaydError('E_ARGS_TOO_LARGE', 'Expected a line of at most 10 bytes, got a longer one');
    }
    const store = fakeStore();
    const error = await enqueueLines({ lines: failing(), insert: store.insert, now: () => NOW, batchSize: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('line 3: Expected a line of at most 10 bytes, got a longer one; lines 1-2 were committed (2 tasks); nothing from line 3 on was written');
  });

  it('writes a partial batch once the input has been quiet for the idle time', async () => {
    const store = fakeStore();
    const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
    const setTimer = (fn: () => void, ms: number) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return { clear: () => (timer.cleared = true) };
    };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow() {
      yield ['{"name": "x"}', '{"name": "x"}', '{"name": "x"}'];
      await gate;
      yield ['{"name": "y"}'];
    }
    const done = enqueueLines({ lines: slow(), insert: store.insert, now: () => NOW, idleMs: 100, setTimer });
    await vi.waitFor(() => expect(timers.filter((t) => !t.cleared)).toHaveLength(1));
    expect(store.batches).toEqual([]);
    const idle = timers.find((t) => !t.cleared)!;
    expect(idle.ms).toBe(100);
    idle.fn();
    await vi.waitFor(() => expect(store.batches.map((b) => b.length)).toEqual([3]));
    release();
    expect(await done).toMatchObject({ lines: 4, enqueued: 4, batches: 2 });
    expect(store.batches.map((b) => b.map((r) => r.name))).toEqual([['x', 'x', 'x'], ['y']]);
  });
});

describe('which names no live daemon serves', () => {
  const worker = (over: Partial<WorkerRow>): WorkerRow => ({
    owner: 'o', host: 'here', pid: 1, names: [], policies: {}, startedMs: NOW, beat: 1, seenMs: NOW, ...over,
  });
  const context = { nowMs: NOW, host: 'here', isAlive: (pid: number) => pid === 1 || pid === 2 };

  it('counts a daemon on this host while its pid runs', () => {
    const workers = [worker({ pid: 1, names: ['a'] }), worker({ pid: 3, names: ['b'] })];
    expect(unservedNames(['a', 'b'], workers, context)).toEqual(['b']);
  });
  it('counts a daemon on another host while it was seen within two minutes', () => {
    const workers = [worker({ host: 'there', pid: 9, names: ['a'], seenMs: NOW - 60_000 }), worker({ host: 'far', names: ['b'], seenMs: NOW - 600_000 })];
    expect(unservedNames(['a', 'b'], workers, context)).toEqual(['b']);
  });
  it('words the warning by whether any daemon is live', () => {
    expect(unservedWarning(['a'], [], context)).toMatch(/no live daemon serves "a" \(no daemon is running on this database\)/);
    expect(unservedWarning(['a'], [worker({ names: ['b', 'c'] })], context)).toMatch(/\(live daemons serve b, c\)/);
    expect(unservedWarning(['b'], [worker({ names: ['b'] })], context)).toBeUndefined();
  });
});

describe('what live daemons serve, for show and stats', () => {
  const worker = (over: Partial<WorkerRow>): WorkerRow => ({
    owner: 'o', host: 'here', pid: 1, names: [], policies: {}, startedMs: NOW, beat: 1, seenMs: NOW, ...over,
  });
  const context = { nowMs: NOW, host: 'here', isAlive: (pid: number) => pid === 1 };

  it('takes names and policies from live daemons only, and counts the scheduled tasks nobody serves', () => {
    const workers = [
      worker({ pid: 1, names: ['val', 'rec'], policies: { val: { retries: 3 } } }),
      worker({ owner: 'dead', pid: 9, names: ['gone'], policies: { rec: { retries: 9 } } }),
    ];
    const served = servedBy(workers, context);
    expect([...served.names]).toEqual(['val', 'rec']);
    expect(served.policies).toEqual(new Map([['val', { retries: 3 }]]));
    expect(unservedCounts({ val: 2, gone: 5, other: 1, none: 0 }, served)).toEqual({ gone: 5, other: 1 });
  });
});
