/**
 * delayMany() and the checks on args, at the edges that its fast path must treat exactly as
 * the general one: which `when` an item gets, which error comes first, the byte limit with
 * multi-byte text, deep or shared structures, and the events and wake-ups after the write.
 */
import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/index.js';
import { scenarios, T0 } from './helpers.js';

const scenario = scenarios();

function setup() {
  const f = scenario.setup({ maxArgsBytes: 1024 });
  const job = f.scheduler.task('job')((..._args: unknown[]) => undefined);
  const rows = async () => (await f.scheduler.list({ limit: 1000 })).sort((a, b) => a.id - b.id);
  return { f, job, rows };
}

async function errorOf(promise: Promise<unknown>): Promise<DelaydError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DelaydError);
  return error as DelaydError;
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { v: value };
  return value;
}

describe('delayMany() gives each item its `when`', () => {
  it('an item\'s own `when` wins over the call\'s, even when it is undefined; arrays and items without one get the call\'s', async () => {
    const { job, rows } = setup();
    const out = await job.delayMany([[1], { args: [2] }, { args: [3], when: 7 }, { args: [4], when: undefined }], 60);
    expect(out.map((s) => s.eta.getTime())).toEqual([T0 + 60_000, T0 + 60_000, T0 + 7_000, T0]);
    expect((await rows()).map((r) => [r.args, r.dueMs])).toEqual([
      ['[1]', T0 + 60_000],
      ['[2]', T0 + 60_000],
      ['[3]', T0 + 7_000],
      ['[4]', T0],
    ]);
  });

  it('options per item set that row\'s retries, backoff, timeout and key; the others leave them to the handler (null)', async () => {
    const f = scenario.setup();
    const job = f.scheduler.task('job', { retries: 2, backoff: 3, timeout: 4 })((..._args: unknown[]) => undefined);
    await job.delayMany([[1], { args: [2], when: { countdown: 1.5, retries: 0, backoff: 0.25, timeout: 9, key: 'k' } }]);
    const [a, b] = (await f.scheduler.list({})).sort((x, y) => x.id - y.id);
    expect(a).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null, key: null, dueMs: T0 });
    expect(b).toMatchObject({ retries: 0, backoffMs: 250, timeoutMs: 9000, key: 'k', dueMs: T0 + 1_500 });
  });

  it('rounds a countdown to the millisecond and an eta up to it', async () => {
    const { job, rows } = setup();
    await job.delayMany([{ args: [], when: 0.0004 }, { args: [], when: 0.0006 }, { args: [], when: { eta: T0 + 0.2 } }]);
    expect((await rows()).map((r) => r.dueMs)).toEqual([T0, T0 + 1, T0 + 1]);
  });

  it('an item that is not an array or an object has no args', async () => {
    const { job, rows } = setup();
    for (const item of [null, 'abc', 5]) {
      const error = await errorOf(job.delayMany([[1], item as never]));
      expect(error.code).toBe('E_BAD_ARGS');
      expect(error.message).toBe('Expected `args` to be an array, got `undefined` (undefined)');
    }
    expect(await rows()).toHaveLength(0);
  });
});

describe('delayMany() checks every item before it writes any', () => {
  it('reports the first bad item, and within an item its `when` before its args', async () => {
    const { job, rows } = setup();
    const first = await errorOf(job.delayMany([[1], { args: 'nope' as never, when: -1 }, { args: [Number.NaN] }]));
    expect(first.code).toBe('E_BAD_COUNTDOWN');
    expect(first.message).toBe('Expected `countdown` to be a finite number of seconds >= 0, got `-1` (number)');
    const second = await errorOf(job.delayMany([[1], [2, [3, { a: [Number.NaN] }]], { args: [], when: -1 }]));
    expect(second.message).toBe('Expected args[1][1].a[0] to be a finite number, got `NaN` (number)');
    expect(await rows()).toHaveLength(0);
  });
});

describe('args', () => {
  it('measures the limit in bytes of UTF-8, not in characters', async () => {
    const { job, rows } = setup();
    // ["é…é"]: 4 bytes of brackets and quotes, 2 bytes per é.
    await job.delay(['é'.repeat(510)]);
    const error = await errorOf(job.delay(['é'.repeat(511)]));
    expect(error.code).toBe('E_ARGS_TOO_LARGE');
    expect(error.message).toBe('Expected `args` to serialise to at most 1024 bytes of JSON, got 1026 bytes');
    const astral = await errorOf(job.delay(['😀'.repeat(256)]));
    expect(astral.message).toContain('got 1028 bytes');
    await job.delay(['x'.repeat(1020)]);
    expect((await rows()).map((r) => r.args.length)).toEqual([514, 1024]);
  });

  it('accepts deep nesting, a structure shared twice, null prototypes and holes; refuses a cycle deep down', async () => {
    const { job, rows } = setup();
    const shared = { n: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: true });
    // eslint-disable-next-line no-sparse-arrays
    await job.delayMany([[nested(100)], [shared, [shared]], [bare, null], [1, , 2]]);
    expect((await rows()).map((r) => r.args)).toEqual([
      JSON.stringify([nested(100)]),
      '[{"n":1},[{"n":1}]]',
      '[{"b":true},null]',
      '[1,null,2]',
    ]);
    const loop: Record<string, unknown> = { x: 1 };
    let deep: Record<string, unknown> = loop;
    for (let i = 0; i < 50; i++) deep = { d: deep };
    loop.back = deep;
    const error = await errorOf(job.delay([deep]));
    expect(error.message).toBe(`Expected \`args\` to be JSON-serialisable, got a circular reference at args[0]${'.d'.repeat(50)}.back`);
  });

  it('names the path of a bad value deep down, as the checks find it', async () => {
    const { job } = setup();
    const deep = nested(70) as unknown[];
    let inner: unknown = deep;
    const path: string[] = [];
    for (let i = 69; i >= 0; i--) {
      const key = i % 2 ? 0 : 'v';
      path.push(typeof key === 'number' ? `[${key}]` : `.${key}`);
      if (i === 0) (inner as Record<string, unknown>).v = () => 1;
      else inner = (inner as Record<string | number, unknown>)[key];
    }
    const error = await errorOf(job.delay([deep]));
    expect(error.message).toBe(`Expected args[0]${path.join('')} to be a JSON value, got a function`);
  });
});

describe('after the write', () => {
  it('emits one received event per row, with its id, due time and whether it was created', async () => {
    const { f, job } = setup();
    const out = await job.delayMany([{ args: [1], when: { countdown: 5, key: 'a' } }, { args: [2], when: { key: 'a' } }, [3]]);
    expect(f.of('received').map((e) => e.payload)).toEqual([
      { taskId: out[0]!.id, name: 'job', dueMs: T0 + 5_000, created: true },
      { taskId: out[0]!.id, name: 'job', dueMs: T0 + 5_000, created: false },
      { taskId: out[2]!.id, name: 'job', dueMs: T0, created: true },
    ]);
    expect(out[1]).toEqual({ id: out[0]!.id, eta: new Date(T0 + 5_000), created: false });
  });

  it('an item due behind the cursor runs at once even when the others are due later', async () => {
    const { f } = setup();
    const at: number[] = [];
    const job = f.scheduler.task('run')(() => void at.push(f.clock.now));
    f.scheduler.start();
    await f.advance(2_990); // the tick at 2.980 s has claimed second 3 already
    await job.delayMany([{ args: [], when: 3_600 }, { args: [], when: 0.005 }, { args: [], when: 60 }]);
    await f.advance(10);
    expect(at).toEqual([T0 + 2_995]);
  });
});
