import { afterEach, describe, expect, it } from 'vitest';
import { fixture, T0 } from './helpers.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function setup(options = {}) {
  const f = fixture(options);
  cleanup = f.close;
  return f;
}

describe('a task delayed by a countdown', () => {
  it('runs at its due millisecond, never before', async () => {
    const f = setup();
    const ran: { at: number; args: unknown[] }[] = [];
    const send = f.scheduler.task()(async function send_msg(to: string, body: string) {
      ran.push({ at: f.clock.now, args: [to, body] });
    });
    f.scheduler.start();
    const { id, eta } = await send.delay(['ann', 'hi'], 10.25);
    expect(eta.getTime()).toBe(T0 + 10_250);
    await f.advance(10_249);
    expect(ran).toEqual([]);
    await f.advance(1);
    expect(ran).toEqual([{ at: T0 + 10_250, args: ['ann', 'hi'] }]);
    await f.advance(10);
    const row = f.scheduler.get(id)!;
    expect(row.state).toBe('succeeded');
    expect(row.attempts).toBe(1);
    expect(row.startedMs).toBe(T0 + 10_250);
  });
});
