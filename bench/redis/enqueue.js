/**
 * delay() one by one, each awaited, against BullMQ's Queue.add on the same redis-server, in
 * the three persistence modes (appendonly no; AOF everysec; AOF always). Countdowns spread
 * over a day, 64-byte args. One server per mode, FLUSHALL between the two, the two
 * alternating within each run so a noisy neighbour hits both alike.
 */
import { spreadCountdown } from '../lib.js';
import { args64, bullQueue, delaydApp, redisMain, sideBySide, vsBull } from './lib.js';

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
  return rows;
}

const WARMUP = 300;

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
