/**
 * An attempt's `this.signal` (runner.ts) is made only when a handler reads it, and is still
 * aborted by the attempt's timeout and by the scheduler's stop, whether read before or after.
 */
import { createClock } from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import { fromFakeClock } from '../src/clock.js';
import { AttemptAbort, runAttempt, type Handler } from '../src/runner.js';
import { DEFAULT_POLICY } from '../src/policy.js';
import type { ClaimedTask } from '../src/store/types.js';

const T = Date.parse('2030-01-01T09:00:00Z');

function claimed(timeoutMs: number | null): ClaimedTask {
  return { id: 7, name: 'slow', args: '[]', dueMs: T, attempts: 0, cutOffs: 0, retries: null, backoffMs: null, timeoutMs };
}

const policyOf = (task: ClaimedTask) => ({ ...DEFAULT_POLICY, timeoutMs: task.timeoutMs });

describe('the signal of an attempt', () => {
  it('is aborted by the timeout, with the timeout error, when read after it', async () => {
    const fake = createClock(T);
    let seen: AbortSignal | undefined;
    const handler: Handler = async function () {
      await new Promise((resolve) => fake.setTimeout(resolve, 5000));
      seen = this.signal;
    };
    const attempt = runAttempt({ task: claimed(1000), policy: policyOf(claimed(1000)), handler, clock: fromFakeClock(fake), stopSignal: new AbortController().signal });
    await fake.tickAsync(1000);
    expect(await attempt).toMatchObject({ kind: 'failed', error: { code: 'E_TIMEOUT', message: expect.stringContaining('timed out after 1000 ms') } });
    await fake.tickAsync(4000);
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as { code?: string }).code).toBe('E_TIMEOUT');
  });

  it("is aborted by the scheduler's stop when read before it, and already aborted when read after", async () => {
    const stop = new AbortController();
    const before = new AttemptAbort(stop.signal);
    const after = new AttemptAbort(stop.signal);
    const early = before.signal;
    expect(early.aborted).toBe(false);
    stop.abort(new Error('stopping'));
    expect(early.aborted).toBe(true);
    expect(after.signal.aborted).toBe(true);
    expect((after.signal.reason as Error).message).toBe('stopping');
  });

  it('keeps the first reason: a stop after a timeout does not replace it', async () => {
    const stop = new AbortController();
    const abort = new AttemptAbort(stop.signal);
    abort.abort('timeout');
    stop.abort('stop');
    expect(abort.signal.reason).toBe('timeout');
  });
});
