import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { asTask, task, type TaskContext } from '../src/index.js';
import { createTestScheduler } from '../src/testing.js';
import { scenarios, T0 } from './helpers.js';

const { setup, defer } = scenarios();

describe('the decorator on class methods (TypeScript 5 standard decorators)', () => {
  it('registers a static method under its name and schedules it', async () => {
    const f = setup();
    const sent: string[] = [];
    class Mailer {
      @f.scheduler.task()
      static async welcome(to: string) {
        sent.push(to);
      }

      @f.scheduler.task('mailer.bye', { retries: 2 })
      static bye(to: string) {
        sent.push(`bye ${to}`);
      }
    }
    expect(f.scheduler.registry.names()).toEqual(['mailer.bye', 'welcome']);
    f.scheduler.start();
    await asTask(Mailer.welcome).delay(['ann'], 1);
    await asTask(Mailer.bye).delay(['bob'], 2);
    await f.advance(2_000);
    expect(sent).toEqual(['ann', 'bye bob']);
    expect(() => asTask(() => 1)).toThrow(/decorated with task\(\)/);
  });
});

describe('bare task() and the testing helper', () => {
  it('enqueues into the default scheduler, which createTestScheduler replaces', async () => {
    const t = createTestScheduler({ now: T0 });
    defer(t.close);
    const seen: number[] = [];
    const remind = task('remind_default')(async function (this: TaskContext, n: number) {
      seen.push(n, this.attempt);
    });
    t.scheduler.start();
    await remind.delay([41], 3_600);
    await t.advance(3_600_000);
    expect(seen).toEqual([41, 1]);
    expect(await t.scheduler.list({ state: 'succeeded' })).toHaveLength(1);
  });
});

describe('logs', () => {
  it('writes one structured event per step: accepted with lateness, succeeded with duration, failed with the error', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const f = setup({ logger: pino({ level: 'debug' }, sink) });
    const ok = f.scheduler.task('ok')(() => 1);
    const bad = f.scheduler.task('bad')(() => {
      throw new Error('bad luck');
    });
    f.scheduler.start();
    const a = await ok.delay([], 1);
    await bad.delay([], 1);
    await f.advance(1_100);
    await new Promise((resolve) => setImmediate(resolve));
    const byMsg = (msg: string) => lines.filter((l) => l.msg === msg);
    expect(byMsg('received')).toHaveLength(2);
    expect(byMsg('accepted')[0]).toMatchObject({ taskId: a.id, name: 'ok', attempt: 1, lateMs: 0 });
    expect(byMsg('succeeded')[0]).toMatchObject({ taskId: a.id, name: 'ok', durationMs: 0 });
    expect(byMsg('failed')[0]).toMatchObject({ name: 'bad', attempt: 1 });
    expect(String(byMsg('failed')[0]!.error)).toContain('bad luck');
  });
});
