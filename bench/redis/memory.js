/**
 * Redis used_memory per pending task, 64-byte args, n tasks due over the next 24 h: the growth
 * of used_memory from an empty server (after FLUSHALL) divided by n, for delayd (delayMany)
 * and BullMQ (addBulk of delayed jobs), one after the other on the same server.
 */
import { spreadCountdown } from '../lib.js';
import { args64, bullQueue, delaydApp, redisMain, sideBySide, sleep, usedMemory, vsBull } from './lib.js';

const DAY_S = 86_400;
const CALL = 1000;

export async function measure(o) {
  const n = o.memory;
  const { d, b } = await sideBySide(o, {
    appendfsync: 'no-aof',
    label: 'memory (B/task)',
    delayd: (url, admin) => perTask(admin, n, () => fillDelayd(url, n, o)),
    bullmq: (url, admin) => perTask(admin, n, () => fillBull(url, n)),
  });
  return [
    vsBull({
      id: 'redis.memory.pending',
      what: `Redis used_memory per pending task, 64 B args (${n.toLocaleString()} over 24 h)`,
      unit: 'B/task',
      better: 'lower',
      delayd: d,
      bull: b,
      bullName: 'B/job BullMQ delayed',
      target: { text: '<= 400 B', ok: (x) => x <= 400 },
    }),
  ];
}

async function perTask(admin, n, fill) {
  await admin.flushAll();
  await sleep(200); // lazy frees settle
  const before = await usedMemory(admin);
  await fill();
  await sleep(200);
  return ((await usedMemory(admin)) - before) / n;
}

async function fillDelayd(url, n, o) {
  const { app, noop } = delaydApp(url, o);
  for (let from = 0; from < n; from += CALL) {
    await noop.delayMany(Array.from({ length: Math.min(CALL, n - from) }, (_, k) => ({ args: args64(from + k), when: { countdown: 60 + spreadCountdown(from + k, DAY_S) } })));
  }
  await app.close();
}

async function fillBull(url, n) {
  const { queue, close } = await bullQueue(url);
  for (let from = 0; from < n; from += CALL) {
    await queue.addBulk(Array.from({ length: Math.min(CALL, n - from) }, (_, k) => ({ name: 'noop', data: args64(from + k), opts: { delay: Math.round((60 + spreadCountdown(from + k, DAY_S)) * 1000) } })));
  }
  await close();
}

await redisMain(import.meta.url, measure);
