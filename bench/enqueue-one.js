/**
 * 1. delay() one by one, awaiting each: tasks per second, against raw single-row INSERTs each in
 * its own transaction. Due times are spread over a day, so rows land all over the wheel index.
 */
import { Scheduler } from '../dist/index.js';
import { rawSingleInserts } from './baseline.js';
import { args105, freshDb, main, progress, removeDb, resultRow, silentLogger, spreadCountdown } from './lib.js';

const DAY_S = 86_400;
const WARMUP = 2000;

export async function measure(o) {
  const raw = [];
  const delayd = [];
  for (let run = 0; run < o.runs; run++) {
    const rawPath = freshDb(o.dir, 'raw-one');
    const nowMs = Date.now();
    raw.push(rawSingleInserts(rawPath, o.single, (i) => nowMs + Math.round(spreadCountdown(i, DAY_S) * 1000), WARMUP));
    removeDb(rawPath);
    delayd.push(await oneByOne(o));
    progress(`enqueue-one run ${run + 1}: delayd ${delayd[run].toFixed(0)}/s, raw ${raw[run].toFixed(0)}/s`);
  }
  return [
    resultRow({
      id: 'enqueue.one',
      what: `delay() one by one (${o.single.toLocaleString()}, await each)`,
      unit: 'tasks/s',
      better: 'higher',
      delayd,
      baselines: [{ name: 'raw single-row INSERT/s, own tx each', samples: raw }],
      target: { text: '>= 0.85x raw', ok: (_d, ratio) => ratio >= 0.85 },
    }),
  ];
}

async function oneByOne(o) {
  const path = freshDb(o.dir, 'delayd-one');
  const app = new Scheduler({ db: path, logger: silentLogger });
  const send = app.task('send')(async () => {});
  for (let i = 0; i < WARMUP; i++) await send.delay(args105(i), spreadCountdown(i, DAY_S));
  const t0 = performance.now();
  for (let i = WARMUP; i < WARMUP + o.single; i++) await send.delay(args105(i), spreadCountdown(i, DAY_S));
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  removeDb(path);
  return o.single / seconds;
}

await main(import.meta.url, measure);
