import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/index.js';
import { scenarios } from './helpers.js';

const scenario = scenarios();

function setup() {
  const f = scenario.setup({ maxArgsBytes: 1024 });
  const job = f.scheduler.task('job')((..._args: unknown[]) => undefined);
  const rows = async () => (await f.scheduler.stats()).counts.scheduled;
  return { f, job, rows };
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

describe('delay() refuses bad input with a coded error and writes nothing', () => {
  it.each([
    ['args that are not an array', 'nope', 1, 'E_BAD_ARGS', 'Expected `args` to be an array, got `"nope"` (string)'],
    ['a function in args', [async () => 1], 1, 'E_BAD_ARGS', 'Expected args[0] to be a JSON value, got a function'],
    ['a BigInt in args', [{ n: 10n }], 1, 'E_BAD_ARGS', 'Expected args[0].n to be a JSON value, got `10` (bigint)'],
    ['a circular structure', [circular], 1, 'E_BAD_ARGS', 'circular reference at args[0].self'],
    ['undefined in args', [undefined], 1, 'E_BAD_ARGS', 'args[0]'],
    ['NaN in args', [Number.NaN], 1, 'E_BAD_ARGS', 'args[0] to be a finite number'],
    ['a Date in args', [new Date(0)], 1, 'E_BAD_ARGS', 'a plain object'],
    ['args over the size limit', ['x'.repeat(2000)], 1, 'E_ARGS_TOO_LARGE', 'at most 1024 bytes of JSON, got 2004 bytes'],
    ['a negative countdown', [], -1, 'E_BAD_COUNTDOWN', 'Expected `countdown` to be a finite number of seconds >= 0, got `-1` (number)'],
    ['an infinite countdown', [], Number.POSITIVE_INFINITY, 'E_BAD_COUNTDOWN', 'got `Infinity` (number)'],
    ['a NaN countdown', [], { countdown: Number.NaN }, 'E_BAD_COUNTDOWN', 'got `NaN` (number)'],
    ['a string countdown', [], { countdown: '10' }, 'E_BAD_COUNTDOWN', 'got `"10"` (string)'],
    ['an invalid Date eta', [], { eta: new Date('nope') }, 'E_BAD_ETA', 'Expected `eta` to be a time from 1970-01-01T00:00:00Z to +275760-09-13T00:00:00Z (0 to 8640000000000000 unix ms), got a Date (Invalid Date)'],
    ['an eta string that is not ISO 8601', [], { eta: 'Jan 1 2030' }, 'E_BAD_ETA', 'Expected `eta` to be unix milliseconds, YYYY-MM-DD (00:00 UTC), or YYYY-MM-DDTHH:MM[:SS[.sss]] with Z or an offset such as +01:00'],
    ['an impossible date', [], { eta: '2030-02-30T00:00:00Z' }, 'E_BAD_ETA', '2030-02 has no day 30'],
    ['a date-time without a zone', [], { eta: '2030-01-01T09:00' }, 'E_BAD_ETA', 'Expected `eta` to say its zone'],
    ['a countdown past the Date range', [], 1e13, 'E_BAD_COUNTDOWN', 'due time stays within 8640000000000000 unix ms'],
    ['a backoff of 1e306', [], { backoff: 1e306, retries: 1 }, 'E_BAD_OPTION', '(at most 2147483 s)'],
    ['a timeout over 2^31 ms', [], { timeout: 3_000_000 }, 'E_BAD_OPTION', '(at most 2147483 s)'],
    ['an unparsable eta string', [], { eta: 'tomorrow-ish' }, 'E_BAD_ETA', '`"tomorrow-ish"` (string)'],
    ['both countdown and eta', [], { countdown: 1, eta: Date.now() }, 'E_BAD_OPTION', 'either `countdown` or `eta`, got both'],
    ['an unknown option', [], { countdwn: 5 }, 'E_UNKNOWN_OPTION', 'Unknown option `countdwn` in delay options'],
    ['a bad retries option', [], { retries: -2 }, 'E_BAD_OPTION', '`retries` to be an integer from 0 to 1000'],
    ['an empty key', [], { key: '' }, 'E_BAD_OPTION', '`key` to be a non-empty string'],
    ['options that are not an object', [], 'soon', 'E_BAD_OPTION', 'got `"soon"` (string)'],
  ])('%s', async (_label, args, when, code, message) => {
    const { job, rows } = setup();
    const error = await job.delay(args as never, when as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DelaydError);
    expect((error as DelaydError).code).toBe(code);
    expect((error as DelaydError).message).toContain(message);
    expect(await rows()).toBe(0);
  });

  it('delayMany writes none of a batch when one item is bad', async () => {
    const { job, rows } = setup();
    const error = await job.delayMany([[1], [2], [() => 3]]).catch((e: unknown) => e);
    expect((error as DelaydError).code).toBe('E_BAD_ARGS');
    expect((error as DelaydError).message).toContain('args[0]');
    expect(await rows()).toBe(0);
    await job.delayMany([[1], { args: [2], when: 5 }]);
    expect(await rows()).toBe(2);
  });
});

describe('task() refuses bad definitions', () => {
  it('rejects an unknown task option and a second handler under the same name', async () => {
    const { f } = setup();
    expect(() => f.scheduler.task('x', { retires: 3 } as never)).toThrow(/Unknown option `retires` in task options/);
    expect(() => f.scheduler.task('x', { backoff: 1e306 })).toThrow(/`backoff` .*at most 2147483 s/);
    expect(() => f.scheduler.task('x', { timeout: 3_000_000 })).toThrow(/`timeout` .*at most 2147483 s/);
    expect(() => f.scheduler.task('x', { maxCutOffs: -1 })).toThrow(/`maxCutOffs` to be an integer from 0 to 1000/);
    expect(() => f.scheduler.task('evil\u001b[2J')(() => 1)).toThrow(expect.objectContaining({ code: 'E_BAD_NAME' }));
    f.scheduler.task('twice')(() => 1);
    expect(() => f.scheduler.task('twice')(() => 2)).toThrow(expect.objectContaining({ code: 'E_DUPLICATE_TASK' }));
  });
});
