/**
 * Batch status bitmaps at scale (issue 6, seed 000): a batch of a million items, every
 * outcome recorded through the store in group commits of 1,000 as the journal does, then the
 * answers: counts, membership of one item, and the lists, from the bitmaps, beside the same
 * answers from a scan of the task rows (raw better-sqlite3: count and list by state), which
 * is the origin's "solution 1". One run builds the batch; answer times are medians of 5.
 *
 *   node bench/batches.js   (BENCH_BATCH_ITEMS=1000000)
 */
import Database from 'better-sqlite3';
import { Batch } from '../dist/batch.js';
import { SqliteStore } from '../dist/store/sqlite/index.js';
import { fileSize, freshDb, main, median, progress, removeDb, resultRow } from './lib.js';

const GROUP = 1_000;

export async function measure(o) {
  const items = Number(process.env.BENCH_BATCH_ITEMS ?? 1_000_000);
  const path = freshDb(o.dir, 'batches');
  const store = new SqliteStore({ path });
  try {
    const now = Date.now();
    const task = { name: 'item', args: '[]', dueMs: now, createdMs: now, key: null, retries: 0, backoffMs: 1000, timeoutMs: null };
    let t = performance.now();
    const { id } = store.insertBatch({ name: 'item', key: null, createdMs: now, dueMs: now, reduce: { name: 'reduce', retries: 0, backoffMs: 1000, timeoutMs: null } }, Array.from({ length: items }, () => task));
    const insertMs = performance.now() - t;
    progress(`batches: map() of ${items} items in ${insertMs.toFixed(0)} ms`);

    const recordMs = recordAll(store, now);
    // The same outcomes for plain tasks (no batch) on a database of their own: the bitmaps' cost.
    const plainPath = freshDb(o.dir, 'batches-plain');
    const plain = new SqliteStore({ path: plainPath });
    plain.insert(Array.from({ length: items }, () => task));
    const plainMs = recordAll(plain, now);
    plain.close();
    removeDb(plainPath);
    const batch = new Batch(store, id);
    const progressNow = batch.progress();
    if (!progressNow.complete || progressNow.reduceTaskId === null) throw new Error('the batch did not complete');
    const bitmapBytes = store.batchChunks(id).reduce((n, c) => n + c.done.length + c.ok.length, 0);
    progress(`batches: recorded ${items} outcomes in ${recordMs.toFixed(0)} ms; bitmaps ${bitmapBytes} bytes`);

    const raw = new Database(path, { readonly: true });
    const countRows = raw.prepare(`SELECT state, count(*) AS n FROM tasks WHERE batch_id = ? GROUP BY state`);
    const oneRow = raw.prepare(`SELECT state FROM tasks WHERE batch_id = ? AND batch_index = ?`);
    const listRows = raw.prepare(`SELECT batch_index FROM tasks WHERE batch_id = ? AND state = 'succeeded' ORDER BY batch_index`).pluck();
    const time = (fn) => median(Array.from({ length: 5 }, () => ((t = performance.now()), fn(), performance.now() - t)));
    const answers = {
      counts: [time(() => batch.progress()), time(() => countRows.all(id))],
      member: [time(() => batch.status(items >> 1)), time(() => oneRow.get(id, items >> 1))],
      list: [time(() => batch.succeeded()), time(() => listRows.all(id))],
    };
    if (batch.succeeded().length !== listRows.all(id).length) throw new Error('the bitmaps and the rows disagree');
    raw.close();
    const dbBytes = fileSize(path) + fileSize(`${path}-wal`);
    const row = (key, what, unit, delayd, base, baseName, better = 'lower') =>
      resultRow({ id: `batches.${key}`, what, unit, better, delayd: [delayd], baselines: base === undefined ? [] : [{ name: baseName, samples: [base] }] });
    return [
      row('map', `map() of ${items.toLocaleString('en')} items, one transaction`, 'ms', insertMs),
      row('record', 'batch outcomes recorded (row + bits + counters), groups of 1,000', 'outcomes/s', (items / recordMs) * 1000, (items / plainMs) * 1000, 'outcomes/s plain tasks', 'higher'),
      row('bytes', 'status bitmaps of the batch', 'KB', bitmapBytes / 1024, dbBytes / 1024, 'KB whole database'),
      row('counts', 'progress(): counts', 'ms', answers.counts[0], answers.counts[1], 'ms count(*) over task rows'),
      row('member', 'status(i): one item', 'ms', answers.member[0], answers.member[1], 'ms indexed row lookup'),
      row('list', `succeeded(): list of ~${Math.round(items * 0.7).toLocaleString('en')}`, 'ms', answers.list[0], answers.list[1], 'ms select over task rows'),
    ];
  } finally {
    store.close();
    removeDb(path);
  }
}

/** Claims every due task and records its outcome in groups of GROUP (70% succeed, by index). */
function recordAll(store, now) {
  const ok = (id) => ((id - 1) * 2_654_435_761) % 100 < 70;
  let ms = 0;
  for (;;) {
    const claimed = store.claim({ owner: 'bench', uptoSecond: Math.floor(now / 1000), limit: 10_000, names: ['item', 'reduce'] }).tasks;
    if (claimed.length === 0) return ms;
    // Each attempt's start is written (the fence) before its outcome, as the scheduler does;
    // only the outcomes are timed.
    const base = (c) => ({ id: c.id, owner: 'bench', attempt: c.attempts + 1, atMs: now });
    for (let g = 0; g < claimed.length; g += GROUP) store.record(claimed.slice(g, g + GROUP).map((c) => ({ kind: 'started', ...base(c) })));
    const error = { code: null, message: 'no', stack: 'no' };
    const t0 = performance.now();
    for (let g = 0; g < claimed.length; g += GROUP) {
      store.record(
        claimed.slice(g, g + GROUP).map((c) =>
          ok(c.id) ? { kind: 'succeeded', ...base(c), result: null } : { kind: 'failed', ...base(c), error },
        ),
      );
    }
    ms += performance.now() - t0;
  }
}

await main(import.meta.url, measure);
