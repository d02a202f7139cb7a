/**
 * delay() one by one, each awaited, against BullMQ's Queue.add on the same redis-server, in
 * the three persistence modes (appendonly no; AOF everysec; AOF always). Countdowns spread
 * over a day, 64-byte args. One server per mode, FLUSHALL between the two, the two
 * alternating within each run so a noisy neighbour hits both alike.
 *
 * Two more rows with no target of the issue: the floor of any awaited call (a bare PING on
 * node-redis, one by one, beside BullMQ's add: how far above BullMQ anything awaited one at a
 * time can get), and `concurrency` producers each awaiting its own delay() / add (an HTTP
 * server's shape), where delayd's small inserts share a script (coalesce.ts).
 */
import { spreadCountdown } from '../lib.js';
import { adminClient, args64, bullQueue, delaydApp, redisMain, sideBySide, vsBull } from './lib.js';

const DAY_S = 86_400;
const MODES = [
  { mode: 'no-aof', label: 'appendonly no', min: 2 },
  { mode: 'everysec', label: 'AOF everysec', min: 2 },
  { mode: 'always', label: 'AOF always', min: 1.5 },
];

export async function measure(o) {
  const rows = [];
  for (const { mode, label, min } of MODES) {
    const n = mode === 'always' ? o.oneAlways : o.one;
    const { d, b } = await sideBySide(o, { appendfsync: mode, label: `enqueue one by one, ${label}`, delayd: (url) => delaydOne(url, n, o), bullmq: (url) => bullOne(url, n) });
    rows.push(
      vsBull({
        id: `redis.enqueue.one.${mode}`,
        what: `delay() one by one, awaited, ${label} (${n.toLocaleString()})`,
        unit: 'tasks/s',
        better: 'higher',
        delayd: d,
        bull: b,
        bullName: 'jobs/s BullMQ Queue.add, awaited',
        target: { text: `>= ${min}x BullMQ`, ok: (_x, ratio) => ratio >= min },
      }),
    );
  }
  rows.push(...(await floorAndConcurrent(o)));
  return rows;
}

async function floorAndConcurrent(o) {
  const n = o.one;
  const floor = await sideBySide(o, { appendfsync: 'everysec', label: 'awaited PING (the floor)', delayd: (url) => pingOne(url, n), bullmq: (url) => bullOne(url, n) });
  const many = await sideBySide(o, {
    appendfsync: 'everysec',
    label: `enqueue from ${o.concurrency} producers`,
    delayd: (url) => delaydConcurrent(url, n * 4, o),
    bullmq: (url) => bullConcurrent(url, n * 4, o.concurrency),
  });
  return [
    vsBull({
      id: 'redis.enqueue.floor',
      what: `a bare PING awaited one by one on node-redis (the floor of an awaited call; ${n.toLocaleString()})`,
      unit: 'calls/s',
      better: 'higher',
      delayd: floor.d,
      bull: floor.b,
      bullName: 'jobs/s BullMQ Queue.add, awaited',
      note: 'no script, no task: the ratio is the most any awaited one-by-one call on this client can reach',
    }),
    vsBull({
      id: 'redis.enqueue.concurrent',
      what: `delay() from ${o.concurrency} concurrent producers, each awaiting its own, AOF everysec (${(n * 4).toLocaleString()})`,
      unit: 'tasks/s',
      better: 'higher',
      delayd: many.d,
      bull: many.b,
      bullName: `jobs/s BullMQ Queue.add, ${o.concurrency} producers`,
    }),
  ];
}

const WARMUP = 300;

async function pingOne(url, n) {
  const c = await adminClient(url);
  for (let i = 0; i < WARMUP; i++) await c.ping();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.ping();
  const rate = n / ((performance.now() - t0) / 1000);
  await c.quit();
  return rate;
}

/** `producers` loops, each awaiting its own call, over n calls in all. */
async function concurrently(n, producers, call) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: producers }, async () => {
    for (let i = next++; i < n; i = next++) await call(i);
  }));
  return n / ((performance.now() - t0) / 1000);
}

async function delaydConcurrent(url, n, o) {
  const { app, noop } = delaydApp(url, o);
  for (let i = 0; i < WARMUP; i++) await noop.delay(args64(i), spreadCountdown(i, DAY_S));
  const rate = await concurrently(n, o.concurrency, (i) => noop.delay(args64(WARMUP + i), spreadCountdown(WARMUP + i, DAY_S)));
  await app.close();
  return rate;
}

async function bullConcurrent(url, n, producers) {
  const { queue, close } = await bullQueue(url);
  const delay = (i) => Math.round(spreadCountdown(i, DAY_S) * 1000);
  for (let i = 0; i < WARMUP; i++) await queue.add('noop', args64(i), { delay: delay(i) });
  const rate = await concurrently(n, producers, (i) => queue.add('noop', args64(WARMUP + i), { delay: delay(WARMUP + i) }));
  await close();
  return rate;
}

async function delaydOne(url, n, o) {
  const { app, noop } = delaydApp(url, o);
  for (let i = 0; i < WARMUP; i++) await noop.delay(args64(i), spreadCountdown(i, DAY_S));
  const t0 = performance.now();
  for (let i = WARMUP; i < WARMUP + n; i++) await noop.delay(args64(i), spreadCountdown(i, DAY_S));
  const rate = n / ((performance.now() - t0) / 1000);
  await app.close();
  return rate;
}

async function bullOne(url, n) {
  const { queue, close } = await bullQueue(url);
  const delay = (i) => Math.round(spreadCountdown(i, DAY_S) * 1000);
  for (let i = 0; i < WARMUP; i++) await queue.add('noop', args64(i), { delay: delay(i) });
  const t0 = performance.now();
  for (let i = WARMUP; i < WARMUP + n; i++) await queue.add('noop', args64(i), { delay: delay(i) });
  const rate = n / ((performance.now() - t0) / 1000);
  await close();
  return rate;
}

await redisMain(import.meta.url, measure);
