/**
 * Fixtures of the store conformance suite: fixed times, task and outcome builders, and a few
 * steps that drive a task through the contract (claim, start, end). Only the Store interface.
 */
import { expect } from 'vitest';
import type { ClaimedTask, ErrorInfo, NewTask, Outcome, Store, TaskState } from '../../src/store/types.js';

export const T0 = Date.parse('2030-01-01T00:00:00Z');
export const S0 = T0 / 1000;
export const DAY_MS = 86_400_000;
/** Far enough ahead that every task of a test is due by then. */
export const FAR_SECOND = S0 + 10 * 365 * 86_400;

/** A fresh store per test, set by describeStore's beforeEach. */
export type StoreRef = () => Store;

export function task(name: string, dueMs: number, extra: Partial<NewTask> = {}): NewTask {
  return { name, args: '[]', dueMs, createdMs: T0, key: null, retries: null, backoffMs: null, timeoutMs: null, ...extra };
}

export const error = (message: string, code: string | null = null): ErrorInfo => ({ code, message, stack: `Error: ${message}\n    at here` });

export const started = (id: number, owner: string, attempt: number, atMs = T0 + 1): Outcome => ({ kind: 'started', id, owner, attempt, atMs });
export const succeeded = (id: number, owner: string, attempt: number, result: string | null = null, atMs = T0 + 2): Outcome => ({
  kind: 'succeeded', id, owner, attempt, atMs, result,
});
export const failed = (id: number, owner: string, attempt: number, err = error('boom'), atMs = T0 + 2): Outcome => ({
  kind: 'failed', id, owner, attempt, atMs, error: err,
});
export const retryAt = (id: number, owner: string, attempt: number, dueMs: number, err = error('again'), atMs = T0 + 2): Outcome => ({
  kind: 'retry', id, owner, attempt, atMs, error: err, dueMs,
});

export async function claim(store: Store, owner: string, names: string[], uptoSecond = FAR_SECOND, limit = 10_000): Promise<ClaimedTask[]> {
  return (await store.claim({ owner, uptoSecond, limit, names })).tasks;
}

/** Claims the one due task of `name` and opens its attempt. */
export async function startOne(store: Store, owner: string, name: string): Promise<ClaimedTask> {
  const [claimed, ...more] = await claim(store, owner, [name]);
  expect(more).toEqual([]);
  expect(claimed).toBeDefined();
  const attempt = claimed!.attempts + 1;
  expect((await store.record([started(claimed!.id, owner, attempt)])).applied).toEqual([true]);
  return claimed!;
}

/** A task of its own name brought into `state` by owner 'o1' (running: claimed and started). */
export async function inState(store: Store, state: TaskState, name = `in-${state}`): Promise<number> {
  const [inserted] = await store.insert([task(name, T0, { key: `key-${name}` })]);
  const id = inserted!.id;
  if (state === 'cancelled') await store.cancel(id, T0 + 5);
  if (state === 'running' || state === 'succeeded' || state === 'failed') {
    await startOne(store, 'o1', name);
    if (state === 'succeeded') await store.record([succeeded(id, 'o1', 1, '"ok"')]);
    if (state === 'failed') await store.record([failed(id, 'o1', 1)]);
  }
  expect((await store.get(id))?.state).toBe(state);
  return id;
}

/** Awaits `run` and expects it to fail with a DelaydError of `code`. */
export async function expectCode(run: () => unknown, code: string): Promise<void> {
  await expect((async () => run())()).rejects.toMatchObject({ name: 'DelaydError', code });
}

export const ids = (tasks: readonly { id: number }[]): number[] => tasks.map((t) => t.id);
