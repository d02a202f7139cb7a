/**
 * delayMany, 1,000 tasks a call with delays spread over a day, against BullMQ's addBulk of
 * 1,000 jobs a call, on one redis-server with AOF everysec (Redis's own default fsync).
 */
import { spreadCountdown } from '../lib.js';
import { args64, bullQueue, delaydApp, redisMain, sideBySide, vsBull } from './lib.js';

const DAY_S = 86_400;
const CALL = 1000;

export async function measure(o) {
  const n = o.bulk;
  const { d, b } = await sideBySide(o, { label: 'bulk', delayd: (url) => delaydBulk(url, n, o), bullmq: (url) => bullBulk(url, n) });
  return [
    vsBull({
      id: 'redis.enqueue.bulk',
      what: `delayMany, ${CALL} a call, spread delays, AOF everysec (${n.toLocaleString()})`,
      unit: 'tasks/s',
      better: 'higher',
      delayd: d,
      bull: b,
      bullName: 'jobs/s BullMQ addBulk of 1000',
      target: { text: '>= 3x BullMQ', ok: (_x, ratio) => ratio >= 3 },
    }),
  ];
}

async function delaydBulk(url, n, o) {
  const { app, noop } = delaydApp(url, o);
  const items = (from) => Array.from({ length: CALL }, (_, k) => ({ args: args64(from + k), when: { countdown: spreadCountdown(from + k, DAY_S) } }));
  await noop.delayMany(items(n)); // warm-up call (connection, scripts loaded)
  const t0 = performance.now();
  for (let from = 0; from < n; from += CALL) await noop.delayMany(items(from));
  const rate = n / ((performance.now() - t0) / 1000);
  await app.close();
  return rate;
}

async function bullBulk(url, n) {
  const { queue, close } = await bullQueue(url);
  const jobs = (from) => Array.from({ length: CALL }, (_, k) => ({ name: 'noop', data: args64(from + k), opts: { delay: Math.round(spreadCountdown(from + k, DAY_S) * 1000) } }));
  await queue.addBulk(jobs(n));
  const t0 = performance.now();
  for (let from = 0; from < n; from += CALL) await queue.addBulk(jobs(from));
  const rate = n / ((performance.now() - t0) / 1000);
  await close();
  return rate;
}

await redisMain(import.meta.url, measure);
