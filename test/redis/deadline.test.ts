/** Deadlines (deadline.ts) on an injected clock: what expires, what does not, and what a late reply does. */
import { describe, expect, it, vi } from 'vitest';
import { Deadlines, ReplyTimeoutError, within } from '../../src/store/redis/deadline.js';
import { isNoReply, toDelaydError } from '../../src/store/redis/errors.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Deadlines', () => {
  it('rejects the replies older than its bound, oldest first, tells once per check, and ignores a reply that comes later', async () => {
    let now = 0;
    let expiredChecks = 0;
    const d = new Deadlines(100, () => now, () => expiredChecks++);
    const late = deferred<string>();
    const old = d.bound(() => late.promise);
    now = 60;
    const young = deferred<string>();
    const recent = d.bound(() => young.promise);
    now = 99;
    d.check();
    expect(expiredChecks).toBe(0);
    now = 100;
    d.check();
    await expect(old).rejects.toBeInstanceOf(ReplyTimeoutError);
    expect(expiredChecks).toBe(1);
    expect(d.pending).toBe(1);
    late.resolve('too late'); // settles nothing: the caller was told already
    young.resolve('in time');
    await expect(recent).resolves.toBe('in time');
    expect(d.pending).toBe(0);
    now = 1000;
    d.check();
    expect(expiredChecks).toBe(1);
  });

  it('gives a command that waits by design (WAIT) its extra time', async () => {
    let now = 0;
    const d = new Deadlines(100, () => now, () => undefined);
    const waiting = d.bound(() => new Promise(() => undefined), 400);
    const plain = d.bound(() => new Promise(() => undefined));
    now = 100;
    d.check();
    await expect(plain).rejects.toThrow('within 100 ms');
    expect(d.pending).toBe(1);
    now = 499;
    d.check();
    expect(d.pending).toBe(1);
    now = 500;
    d.check();
    await expect(waiting).rejects.toThrow('within 500 ms');
  });

  it('passes a reply\'s own error on, and its timeout reads as no reply: an unknown outcome for a write', async () => {
    const d = new Deadlines(100, () => 0, () => undefined);
    await expect(d.bound(() => Promise.reject(new Error('ERR boom')))).rejects.toThrow('ERR boom');
    const timeout = new ReplyTimeoutError('No reply from Redis within 100 ms');
    expect(isNoReply(timeout)).toBe(true);
    expect(toDelaydError(timeout, 'here', true).code).toBe('E_BACKEND_UNKNOWN_OUTCOME');
    expect(toDelaydError(timeout, 'here', false).code).toBe('E_BACKEND_UNAVAILABLE');
  });
});

describe('within', () => {
  it('passes a value or an error that comes in time, and rejects as no reply once the bound passes', async () => {
    vi.useFakeTimers();
    try {
      await expect(within(Promise.resolve('pong'), 100, 'PING')).resolves.toBe('pong');
      await expect(within(Promise.reject(new Error('ERR no')), 100, 'PING')).rejects.toThrow('ERR no');
      const never = within(new Promise(() => undefined), 100, 'SSUBSCRIBE');
      const seen = never.catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(99);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      const error = await seen;
      expect(error).toBeInstanceOf(ReplyTimeoutError);
      expect(String(error)).toContain('No answer to SSUBSCRIBE within 100 ms');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
