/**
 * Issue 10 (red-team 3, 15, 1): whatever a handler throws or returns becomes data without
 * throwing; errors keep their code; a result that is not JSON fails the attempt; a cut-off
 * attempt does not count against retries; retry due times stay within the Date range.
 */
import { createClock } from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import { errorInfo, errorText, resultJson } from '../src/attempt-error.js';
import { fromFakeClock } from '../src/clock.js';
import { DelaydError } from '../src/errors.js';
import { DEFAULT_POLICY, type Policy } from '../src/policy.js';
import { backoffMs, MAX_DUE_MS, runAttempt, type Handler } from '../src/runner.js';
import type { ClaimedTask } from '../src/store/types.js';

const T = Date.parse('2030-01-01T09:00:00Z');

function task(over: Partial<ClaimedTask> = {}): ClaimedTask {
  return { id: 7, name: 'job', args: '[]', dueMs: T, attempts: 0, cutOffs: 0, retries: null, backoffMs: null, timeoutMs: null, ...over };
}

async function run(handler: Handler, over: Partial<ClaimedTask> = {}, policy: Partial<Policy> = {}, now = T) {
  const clock = fromFakeClock(createClock(now));
  return runAttempt({ task: task(over), policy: { ...DEFAULT_POLICY, ...policy }, handler, clock, stopSignal: new AbortController().signal, random: () => 0.5 });
}

describe('what a handler throws', () => {
  const hostile = {
    toString() {
      throw new Error('no toString for you');
    },
  };
  it.each([
    ['a null-prototype object', Object.create(null), 'Non-error thrown: '],
    ['a Symbol', Symbol('odd'), 'Non-error thrown: Symbol(odd)'],
    ['an object whose toString throws', hostile, 'Non-error thrown: '],
    ['undefined', undefined, 'Non-error thrown: undefined'],
    ['null', null, 'Non-error thrown: null'],
  ])('%s gives a text without throwing', (_label, thrown, start) => {
    expect(() => errorText(thrown)).not.toThrow();
    expect(errorText(thrown).startsWith(start)).toBe(true);
  });

  it('an Error whose message getter throws is still described', async () => {
    class Hostile extends Error {
      override get message(): string {
        throw new Error('nope');
      }
      override get stack(): string {
        throw new Error('nope');
      }
    }
    expect(errorInfo(new Hostile())).toMatchObject({ message: '(a message that cannot be read)' });
  });

  it('a plain object keeps its message and string code', async () => {
    expect(errorInfo({ message: 'obj msg', code: 'E_MINE' })).toEqual({ code: 'E_MINE', message: 'obj msg', stack: 'Non-error thrown: obj msg' });
    expect(errorInfo({ message: 'obj msg', code: 42 })).toMatchObject({ code: null, message: 'obj msg' });
    expect(errorInfo({ reason: 'r' })).toMatchObject({ message: '{"reason":"r"}' });
  });

  it("keeps a DelaydError's code and an Error's own string code", async () => {
    expect(errorInfo(new DelaydError('E_TIMEOUT', 'late'))).toMatchObject({ code: 'E_TIMEOUT', message: 'late' });
    const system = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    expect(errorInfo(system)).toMatchObject({ code: 'ECONNREFUSED', message: 'refused', stack: expect.stringContaining('Error: refused') });
    expect(errorInfo(new Error('plain')).code).toBeNull();
  });

  it('an attempt that throws Object.create(null) fails as data', async () => {
    const result = await run(() => {
      throw Object.create(null);
    });
    expect(result).toMatchObject({ kind: 'failed', error: { code: null, stack: expect.stringContaining('Non-error thrown') } });
  });
});

describe("the handler's result", () => {
  it.each([
    ['a BigInt', 10n, 'a BigInt (10n)'],
    ['NaN', Number.NaN, '`NaN` (number)'],
    ['a function', async () => 1, 'a function'],
    ['a Symbol', Symbol('s'), 'a Symbol'],
    ['a nested Infinity', { a: [Number.POSITIVE_INFINITY] }, '`Infinity` (number)'],
    ['a nested BigInt', { a: 1n }, 'a BigInt (1n)'],
  ])('%s fails the attempt with E_BAD_RESULT', async (_label, value, got) => {
    const result = await run(() => value);
    expect(result).toMatchObject({
      kind: 'failed',
      error: { code: 'E_BAD_RESULT', message: `Expected the handler's result to be JSON-serialisable, got ${got}` },
    });
  });

  it('a circular object fails with E_BAD_RESULT', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const result = await run(() => circular);
    expect(result).toMatchObject({ kind: 'failed', error: { code: 'E_BAD_RESULT', message: expect.stringContaining('circular') } });
  });

  it('undefined is stored as null; undefined inside arrays and objects as JSON has it', async () => {
    expect(resultJson(undefined)).toBeNull();
    expect(resultJson([1, undefined])).toBe('[1,null]');
    expect(resultJson({ a: undefined, b: 2, d: new Date(T) })).toBe(`{"b":2,"d":"${new Date(T).toISOString()}"}`);
    expect(resultJson(-0)).toBe('0');
  });
});

describe('retries and cut-offs', () => {
  const fails: Handler = () => {
    throw new Error('flaky');
  };

  it("a cut-off attempt does not count against retries: attempt 3 after 2 cut-offs is the first run's retry", async () => {
    // retries 1: attempt 1 was cut off, attempt 2 cut off, attempt 3 fails: one retry left.
    expect(await run(fails, { attempts: 2, cutOffs: 2 }, { retries: 1 })).toMatchObject({ kind: 'retry', dueMs: T + 1000 });
    expect(await run(fails, { attempts: 3, cutOffs: 2 }, { retries: 1 })).toMatchObject({ kind: 'failed' });
    expect(await run(fails, { attempts: 1, cutOffs: 0 }, { retries: 1 })).toMatchObject({ kind: 'failed' });
  });

  it('the backoff doubles per retry, not per cut-off', async () => {
    expect(await run(fails, { attempts: 1, cutOffs: 0 }, { retries: 5, backoffMs: 1000 })).toMatchObject({ dueMs: T + 2000 });
    expect(await run(fails, { attempts: 3, cutOffs: 2 }, { retries: 5, backoffMs: 1000 })).toMatchObject({ dueMs: T + 2000 });
  });

  it('a huge backoff stays finite and within the Date range', async () => {
    expect(Number.isFinite(backoffMs(1e306, 1000, () => 0.99))).toBe(true);
    const result = await run(fails, {}, { retries: 3, backoffMs: 1e306 });
    expect(result.kind).toBe('retry');
    if (result.kind === 'retry') expect(result.dueMs).toBeLessThanOrEqual(MAX_DUE_MS);
  });

  it('this.retry() past the Date range is refused with E_BAD_OPTION', async () => {
    const result = await run(function () {
      this.retry(1e13);
    }, {}, { retries: 3 });
    expect(result).toMatchObject({ kind: 'retry', error: { code: 'E_BAD_OPTION', message: expect.stringContaining('Date range') } });
    if (result.kind === 'retry') expect(result.dueMs).toBe(T + 1000);
    const ok = await run(function () {
      this.retry(60);
    }, {}, { retries: 3 });
    expect(ok).toMatchObject({ kind: 'retry', dueMs: T + 60_000 });
  });

  it('a timeout above 2^31 ms is not cut to 1 ms', async () => {
    const fake = createClock(T);
    let done = false;
    const attempt = runAttempt({
      task: task(),
      policy: { ...DEFAULT_POLICY, timeoutMs: 3_000_000_000 },
      handler: () => new Promise((resolve) => fake.setTimeout(() => resolve((done = true)), 2 ** 31 + 10)),
      clock: fromFakeClock(fake),
      stopSignal: new AbortController().signal,
    });
    await fake.tickAsync(2 ** 31 + 10);
    expect(done).toBe(true);
    expect(await attempt).toMatchObject({ kind: 'succeeded', result: 'true' });
  });
});
