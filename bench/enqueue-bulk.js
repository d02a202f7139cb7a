/**
 * 2. Bulk enqueue: delayMany() of `batch` tasks per call (one transaction each), against raw
 * INSERTs batched the same way, with the wheel index and without any index. Due times are
 * spread over a day. (`delayd enqueue --file` is measured by enqueue-file.js when the CLI exists.)
 */
import { Scheduler } from '../dist/index.js';
import { rawBatchedInserts } from './baseline.js';
import { args105, freshDb, main, progress, removeDb, resultRow, silentLogger, spreadCountdown } from './lib.js';

const DAY_S = 86_400;

export async function measure(o) {
  const indexed = [];
  const bare = [];
  const delayd = [];
  for (let run = 0; run < o.runs; run++) {
    const nowMs = Date.now();
    const dueMsOf = (i) => nowMs + Math.round(spreadCountdown(i, DAY_S) * 1000);
    for (const [samples, index] of [[indexed, true], [bare, false]]) {
      const path = freshDb(o.dir, 'raw-bulk');
      samples.push(rawBatchedInserts(path, o.bulk, o.batch, dueMsOf, { index }));
      removeDb(path);
    }
    delayd.push(await bulk(o));
    progress(`enqueue-bulk run ${run + 1}: delayd ${delayd[run].toFixed(0)}/s, raw ${indexed[run].toFixed(0)}/s, raw no index ${bare[run].toFixed(0)}/s`);
  }
  return [
    resultRow({
      id: 'enqueue.bulk',
      what: `delayMany() ${o.batch.toLocaleString()} per call (${o.bulk.toLocaleString()})`,
      unit: 'tasks/s',
      better: 'higher',
      delayd,
      baselines: [
        { name: `raw INSERT/s, ${o.batch} per tx, wheel index`, samples: indexed },
        { name: 'same, no index', samples: bare },
      ],
      target: { text: '>= 300k tasks/s', ok: (d) => d >= 300_000 },
    }),
  ];
}

async function bulk(o) {
  const path = freshDb(o.dir, 'delayd-bulk');
  const app = new Scheduler({ db: path, logger: silentLogger });
  const send = app.task('send')(async () => {});
  const t0 = performance.now();
  for (let from = 0; from < o.bulk; from += o.batch) {
    const items = [];
    for (let i = from; i < Math.min(o.bulk, from + o.batch); i++) items.push({ args: args105(i), when: spreadCountdown(i, DAY_S) });
    await send.delayMany(items);
  }
  const seconds = (performance.now() - t0) / 1000;
  await app.close();
  removeDb(path);
  return o.bulk / seconds;
}

await main(import.meta.url, measure);
