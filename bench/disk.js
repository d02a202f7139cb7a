/**
 * 7. Disk bytes per pending task: the database file (WAL checkpointed into it) over n pending
 * tasks with 105-byte args, due over a day, enqueued with delayMany(); against raw rows of the
 * same payload under the wheel index.
 */
import Database from 'better-sqlite3';
import { Scheduler } from '../dist/index.js';
import { rawBytesPerRow } from './baseline.js';
import { args105, freshDb, main, progress, removeDb, resultRow, silentLogger, spreadCountdown } from './lib.js';

export async function measure(o) {
  const delayd = [];
  const raw = [];
  for (let run = 0; run < o.runs; run++) {
    const nowMs = Date.now();
    const rawPath = freshDb(o.dir, 'raw-disk');
    raw.push(rawBytesPerRow(rawPath, o.disk, o.batch, (i) => nowMs + Math.round(spreadCountdown(i, 86_400) * 1000)));
    removeDb(rawPath);
    delayd.push(await bytesPerTask(o));
  }
  progress(`disk: delayd ${delayd[0].toFixed(0)} B/task, raw ${raw[0].toFixed(0)} B/row`);
  return [
    resultRow({
      id: 'disk',
      what: `disk per pending task (${o.disk.toLocaleString()})`,
      unit: 'B',
      better: 'lower',
      delayd,
      baselines: [{ name: 'B raw row + wheel index', samples: raw }],
    }),
  ];
}

async function bytesPerTask(o) {
  const path = freshDb(o.dir, 'delayd-disk');
  const app = new Scheduler({ db: path, logger: silentLogger });
  const send = app.task('send')(async () => {});
  for (let from = 0; from < o.disk; from += o.batch) {
    const items = [];
    for (let i = from; i < Math.min(o.disk, from + o.batch); i++) items.push({ args: args105(i), when: spreadCountdown(i, 86_400) });
    await send.delayMany(items);
  }
  await app.close();
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
  db.close();
  removeDb(path);
  return bytes / o.disk;
}

await main(import.meta.url, measure);
