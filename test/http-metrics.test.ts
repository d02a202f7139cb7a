/**
 * Metrics after a known run on a fake clock: 4 tasks of `ok` succeed (one of them started
 * 1.5 s late, each running 250 ms), 2 of `bad` fail on time. The exposition, read through the
 * HTTP handler and parsed by a strict parser, has exactly those counts and that lateness.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fromFakeClock } from '../src/clock.js';
import { createHttpHandler, type HttpHandler } from '../src/http/handler.js';
import { loadPromClient } from '../src/http/metrics.js';
import { metrics } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { createTestScheduler } from '../src/testing.js';
import { buckets, parseExposition } from './http-lib.js';

const T0 = Date.parse('2030-01-01T09:00:00.000Z');
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function knownRun() {
  const store = new SqliteStore({ path: ':memory:' });
  const t = createTestScheduler({ now: T0, asDefault: false, store });
  cleanups.push(() => store.close(), () => t.close());
  const clock = fromFakeClock(t.clock);
  const ok = t.scheduler.task('ok')(() => new Promise((resolve) => clock.setTimeout(() => resolve('done'), 250)));
  const bad = t.scheduler.task('bad')(() => {
    throw Object.assign(new Error('<b>no</b>'), { code: 'E_NOPE' });
  });
  const handler = await createHttpHandler(t.scheduler, { store, clock, defaultMetrics: false });
  cleanups.push(() => handler.close());
  await ok.delay([], { eta: T0 - 1500 });
  for (let i = 0; i < 3; i++) await ok.delay([], 1);
  for (let i = 0; i < 2; i++) await bad.delay([], 2);
  await t.scheduler.start();
  await t.advance(5000);
  await t.scheduler.flush();
  return { t, handler };
}

/** The handler in a real server on a loopback port; the exposition text. */
async function scrape(handler: HttpHandler): Promise<{ status: number; type: string | null; text: string }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  } finally {
    server.close();
  }
}

describe('metrics after a known run on a fake clock', () => {
  it('count exactly the attempts, their outcomes, durations and lateness', async () => {
    const { handler } = await knownRun();
    const { status, type, text } = await scrape(handler);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(text);
    expect(e.types.get('delayd_task_lateness_seconds')).toBe('histogram');
    expect(e.types.get('delayd_tasks_finished_total')).toBe('counter');
    for (const [state, n] of Object.entries({ scheduled: 0, running: 0, succeeded: 4, failed: 2, cancelled: 0 })) {
      expect(e.value('delayd_tasks', { state })).toBe(n);
    }
    expect(e.value('delayd_tasks_finished_total', { name: 'ok', outcome: 'succeeded' })).toBe(4);
    expect(e.value('delayd_tasks_finished_total', { name: 'bad', outcome: 'failed' })).toBe(2);
    expect(e.samples.filter((s) => s.name === 'delayd_tasks_finished_total')).toHaveLength(2);
    // Lateness: three on time, one 1.5 s late, in the buckets either side of 1.5 s.
    expect(e.value('delayd_task_lateness_seconds_count', { name: 'ok' })).toBe(4);
    expect(e.value('delayd_task_lateness_seconds_sum', { name: 'ok' })).toBeCloseTo(1.5, 9);
    expect(buckets(e, 'delayd_task_lateness_seconds', { name: 'ok' })).toMatchObject({ '0.0005': 3, '0.001': 3, '1': 3, '2.5': 4, '+Inf': 4 });
    expect(buckets(e, 'delayd_task_lateness_seconds', { name: 'bad' })).toMatchObject({ '0.0005': 2, '+Inf': 2 });
    expect(e.value('delayd_task_duration_seconds_count', { name: 'ok', outcome: 'succeeded' })).toBe(4);
    expect(e.value('delayd_task_duration_seconds_sum', { name: 'ok', outcome: 'succeeded' })).toBeCloseTo(1.0, 9);
    expect(buckets(e, 'delayd_task_duration_seconds', { name: 'ok', outcome: 'succeeded' })).toMatchObject({ '0.1': 0, '0.25': 4 });
    expect(e.value('delayd_task_duration_seconds_count', { name: 'bad', outcome: 'failed' })).toBe(2);
    expect(e.value('delayd_tasks_claimed_total')).toBe(6);
    expect(e.value('delayd_claim_duration_seconds_count')).toBeGreaterThan(0);
    expect(e.value('delayd_wheel_cursor_seconds')).toBe(T0 / 1000 + 5);
    expect(e.value('delayd_running_attempts')).toBe(0);
    expect(e.samples.some((s) => s.name.startsWith('delayd_store_errors_total'))).toBe(false);
    expect(e.types.get('delayd_store_errors_total')).toBe('counter');
    expect(e.types.get('delayd_tasks_put_back_total')).toBe('counter');
  });

  it('count what a stop puts back, by why', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const t = createTestScheduler({ now: T0, asDefault: false, store, drainMs: 100 });
    cleanups.push(() => store.close(), () => t.close());
    const hang = t.scheduler.task('hang')(() => new Promise(() => {}));
    const m = await metrics(t.scheduler, { defaultMetrics: false });
    cleanups.push(() => m.close());
    await hang.delay([], 0);
    await t.scheduler.start();
    await t.advance(1000);
    const stopped = t.scheduler.stop();
    await t.advance(200);
    await stopped;
    const e = parseExposition(await m.text());
    expect(e.value('delayd_tasks_put_back_total', { why: 'stopped' })).toBe(1);
  });

  it('has the Node defaults (event loop lag, memory) unless turned off', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const t = createTestScheduler({ now: T0, asDefault: false, store });
    cleanups.push(() => store.close(), () => t.close());
    const handler = await createHttpHandler(t.scheduler, { store });
    cleanups.push(() => handler.close());
    const e = parseExposition(await handler.metrics!.text());
    expect(e.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(e.types.get('process_resident_memory_bytes')).toBe('gauge');
  });

  it('refuses with E_MISSING_DEPENDENCY and the install line when prom-client is absent', async () => {
    const absent = () => Promise.reject(Object.assign(new Error("Cannot find package 'prom-client'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    await expect(loadPromClient(absent)).rejects.toMatchObject({ code: 'E_MISSING_DEPENDENCY', message: expect.stringContaining('npm install prom-client@15') });
  });
});

describe('the strict exposition parser', () => {
  it('refuses what Prometheus would refuse', () => {
    expect(() => parseExposition('a 1\n')).toThrow(/no # TYPE/);
    expect(() => parseExposition('# TYPE a gauge\na{x="1} 1\n')).toThrow();
    expect(() => parseExposition('# TYPE a gauge\na 1\na 2\n')).toThrow(/twice/);
    expect(() => parseExposition('# TYPE a gauge\na one\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/fall/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n')).toThrow(/_count/);
    expect(() => parseExposition('# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="y"} 1\n')).toThrow(/together/);
    expect(parseExposition('# HELP a x\n# TYPE a gauge\na{x="q\\"\\n"} 1.5e3\n').value('a', { x: 'q"\n' })).toBe(1500);
  });
});

describe('a handler on a db of its own', () => {
  it('opens its own connection to the scheduler\'s file, serves from it, and closes it', async () => {
    const { tempDb } = await import('./tmpdb.js');
    const file = tempDb();
    const t = createTestScheduler({ now: T0, asDefault: false, db: file.path });
    cleanups.push(() => file.remove(), () => t.close());
    const ok = t.scheduler.task('ok')(() => 'done');
    await ok.delay([], 60);
    const handler = await createHttpHandler(t.scheduler, { db: file.path, metrics: false, clock: fromFakeClock(t.clock) });
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const overview = (await (await fetch(`http://127.0.0.1:${port}/dashboard/overview`)).json()) as { counts: { scheduled: number }; load: { slots: number[][] } };
      expect(overview.counts.scheduled).toBe(1);
      expect(overview.load.slots).toEqual([[(T0 / 1000 + 60) % 3600, 1]]);
    } finally {
      server.close();
      await handler.close();
    }
    await expect(createHttpHandler(t.scheduler, { db: ':memory:' })).rejects.toMatchObject({ code: 'E_BAD_OPTION' });
    // Neither `store` nor `db`: the scheduler's own store.
    const own = await createHttpHandler(t.scheduler, { metrics: false, clock: fromFakeClock(t.clock) });
    const ownServer: Server = createServer(own);
    await new Promise<void>((resolve) => ownServer.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = ownServer.address() as AddressInfo;
      const overview = (await (await fetch(`http://127.0.0.1:${port}/dashboard/overview`)).json()) as { counts: { scheduled: number } };
      expect(overview.counts.scheduled).toBe(1);
    } finally {
      ownServer.close();
      await own.close();
    }
  });
});
