/**
 * The claim loop (dispatch.ts) when a claim's answer never comes (E_BACKEND_UNKNOWN_OUTCOME):
 * the claim may have run, leaving tasks running under our name that we do not know of. They
 * must run here, once, not wait for a put-back that comes only when this owner stops or dies.
 */
import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/errors.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { scenarios, withMethod } from './helpers.js';

const { setup, defer } = scenarios();

/** A store whose first claims run but lose their answer. */
function losingAnswers(lost: number, code = 'E_BACKEND_UNKNOWN_OUTCOME'): Store {
  const store = new SqliteStore({ path: ':memory:' });
  defer(() => store.close());
  const claim: Store['claim'] = async (request) => {
    const result = await store.claim(request);
    if (result.tasks.length > 0 && lost-- > 0) throw new DelaydError(code as 'E_BACKEND_UNKNOWN_OUTCOME', 'the claim was sent and no answer came');
    return result;
  };
  return withMethod(store, 'claim', claim);
}

describe('a claim whose answer never came', () => {
  it('runs the tasks it took, each once, at the next claim', async () => {
    const f = setup({ store: losingAnswers(1) });
    const ran: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void ran.push(n));
    f.scheduler.start();
    await job.delayMany([[1], [2], [3]], 2);
    await f.advance(2_000);
    expect(ran).toEqual([]); // the claim that took them lost its answer
    await f.advance(1_000);
    expect(ran.sort()).toEqual([1, 2, 3]);
    await f.advance(5_000);
    expect(ran).toHaveLength(3);
    const rows = await f.scheduler.list({});
    expect(rows.map((r) => [r.state, r.attempts])).toEqual([['succeeded', 1], ['succeeded', 1], ['succeeded', 1]]);
  });

  it('runs them too when the claim failed on one shard after others had claimed (E_BACKEND_CLUSTERDOWN)', async () => {
    const f = setup({ store: losingAnswers(1, 'E_BACKEND_CLUSTERDOWN') });
    const ran: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void ran.push(n));
    f.scheduler.start();
    await job.delayMany([[1], [2]], 2);
    await f.advance(3_000);
    expect(ran.sort()).toEqual([1, 2]);
  });

  it('takes up no more than the pool has room for, and the rest at later claims', async () => {
    const f = setup({ store: losingAnswers(1), concurrency: 1, queueSize: 1 });
    const ran: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void ran.push(n));
    f.scheduler.start();
    await job.delayMany([[1], [2]], 2);
    await f.advance(2_000); // the lost claim takes at most the room: 2 (1 running + 1 waiting)
    await f.advance(3_000);
    expect(ran.sort()).toEqual([1, 2]);
    expect((await f.scheduler.stats()).counts).toMatchObject({ succeeded: 2, running: 0, scheduled: 0 });
  });
});

describe('a nudge from a shared backend (store.onNudge)', () => {
  it("claims at once a task another process wrote due now, not at the next tick, and stops listening at stop", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    let nudge: ((dueMs: number) => void) | undefined;
    let listening = false;
    const nudging = new Proxy(store, {
      get: (target, key) => {
        if (key === 'onNudge') {
          return async (listener: (dueMs: number) => void) => {
            nudge = listener;
            listening = true;
            return async () => void (listening = false);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const f = setup({ store: nudging });
    const ran: number[] = [];
    f.scheduler.task('job')(() => void ran.push(f.clock.now));
    f.scheduler.start();
    await f.advance(1_500);
    expect(listening).toBe(true);
    // Another process writes a task due now, behind our cursor, and the backend tells us.
    const dueMs = f.clock.now;
    await store.insert([{ name: 'job', args: '[]', dueMs, createdMs: dueMs, key: null, retries: null, backoffMs: null, timeoutMs: null }]);
    nudge!(dueMs);
    await f.advance(5);
    expect(ran).toEqual([dueMs]);
    const stopping = f.scheduler.stop();
    await f.advance(1);
    await stopping;
    expect(listening).toBe(false);
  });
});

describe('tasks left by a failed claim, when looking for them fails too', () => {
  it('claims on (once per claim) instead of waiting for the look to succeed', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    let claimsLeft = 1; // the first claim that takes tasks fails on "another shard"
    let listFails = true; // and listing running tasks fails until told otherwise
    let lists = 0;
    const flaky = new Proxy(store, {
      get: (target, key) => {
        if (key === 'claim') {
          return async (request: Parameters<Store['claim']>[0]) => {
            const result = await store.claim(request);
            if (result.tasks.length > 0 && claimsLeft-- > 0) throw new DelaydError('E_BACKEND_CLUSTERDOWN', 'a shard is down');
            return result;
          };
        }
        if (key === 'list') {
          return async (filter: Parameters<Store['list']>[0]) => {
            if (filter.state === 'running') lists++;
            if (filter.state === 'running' && listFails) throw new DelaydError('E_BACKEND_CLUSTERDOWN', 'a shard is down');
            return store.list(filter);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const f = setup({ store: flaky });
    const ran: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void ran.push(n));
    f.scheduler.start();
    await job.delay([1], 2); // taken by the failed claim: stray
    await f.advance(2_000);
    await job.delay([2], 2); // a later task: claimed although the strays cannot be looked up
    await f.advance(2_000);
    expect(ran).toEqual([2]);
    expect(lists).toBeGreaterThanOrEqual(2);
    expect(lists).toBeLessThan(10); // one look per claim, not a loop
    listFails = false;
    await f.advance(1_000);
    expect(ran.sort()).toEqual([1, 2]);
  });
});
