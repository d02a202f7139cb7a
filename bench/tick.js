/**
 * 3. The cost of one tick with N pending tasks (in later cycles) and 0, 1k or 10k due: the
 * milliseconds of Scheduler.tick(second) and of any claim it leads to, until everything due
 * is claimed: the cursor advanced, the tasks marked running and handed to the pool. The clock
 * is a fake one, so nothing runs and only the claims' own time is counted; after each tick
 * stop() puts the claimed tasks back. The baseline is raw
 * better-sqlite3 claiming the same rows of the same table (one UPDATE ... RETURNING of the
 * name's slot on the wheel index, which leads with the name, in one transaction) and, for reference, merely reading them.
 */
import { createClock } from '@sinonjs/fake-timers';
import Database from 'better-sqlite3';
import { Scheduler, fromFakeClock } from '../dist/index.js';
import { args105, main, median, progress, resultRow, silentLogger } from './lib.js';
import { PENDING_BASE_MS, pendingDb } from './pending.js';

/** The due second: a day before the first pending task, so they are all in later cycles. */
const DUE_SECOND = PENDING_BASE_MS / 1000 - 86_400;

export async function measure(o) {
  const rows = [];
  for (const pending of o.pending) {
    const path = pendingDb(o.dir, pending);
    for (const due of o.due) rows.push(await tickCase(o, path, pending, due));
  }
  return rows;
}

async function tickCase(o, path, pending, due) {
  const raw = new Database(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  const slot = DUE_SECOND % 3600;
  const cycle = Math.floor(DUE_SECOND / 3600);
  const clear = raw.prepare(`DELETE FROM tasks WHERE name = 'noop' AND cycle = ? AND slot = ?`);
  clear.run(cycle, slot); // what an interrupted run may have left
  const clock = createClock(DUE_SECOND * 1000 - 10_000);
  const app = new Scheduler({
    db: path,
    logger: silentLogger,
    clock: fromFakeClock(clock),
    queueSize: Math.max(1000, due),
    concurrency: o.concurrency,
  });
  const noop = app.task('noop')(async () => {});
  const items = Array.from({ length: due }, (_, i) => ({ args: args105(i), when: { eta: DUE_SECOND * 1000 + (i % 1000) } }));
  if (due > 0) await noop.delayMany(items);
  const rawClaim = raw.prepare(`
    UPDATE tasks SET state = 'running', owner = 'raw'
    WHERE name = 'noop' AND cycle = ? AND slot = ? AND state = 'scheduled' AND in_wheel = 1 RETURNING id, name, args, due_ms`);
  const rawClaimTx = raw.transaction(() => rawClaim.all(cycle, slot));
  const rawRead = raw.prepare(`SELECT id, name, args, due_ms FROM tasks WHERE name = 'noop' AND cycle = ? AND slot = ? AND state = 'scheduled' AND in_wheel = 1`);
  const putBack = raw.prepare(`UPDATE tasks SET state = 'scheduled', owner = NULL WHERE owner = 'raw' AND state = 'running'`);
  const running = raw.prepare(`SELECT count(*) FROM tasks INDEXED BY tasks_running WHERE state = 'running'`).pluck();
  const runs = { delayd: [], claim: [], read: [] };
  for (let run = 0; run < o.runs; run++) {
    const ticks = { delayd: [], claim: [], read: [] };
    for (let t = 0; t < o.ticks; t++) {
      let t0 = performance.now();
      const read = rawRead.all(cycle, slot);
      ticks.read.push(performance.now() - t0);
      t0 = performance.now();
      const got = rawClaimTx.immediate();
      ticks.claim.push(performance.now() - t0);
      putBack.run();
      if (read.length !== due || got.length !== due) throw new Error(`raw saw ${read.length}/${got.length} of ${due} due`);
      await app.start(); // the first heartbeat and claim, as start() did before it was asynchronous
      t0 = performance.now();
      await app.tick(DUE_SECOND);
      let ms = performance.now() - t0;
      let claimed = running.get();
      for (let turns = 0; claimed < due && turns < 1000; turns++) {
        t0 = performance.now();
        await clock.tickAsync(1); // runs the continuation claim, if one was asked for
        ms += performance.now() - t0;
        claimed = running.get();
      }
      ticks.delayd.push(ms);
      await app.stop({ drainMs: 0 });
      if (claimed !== due) throw new Error(`the tick claimed ${claimed} of ${due} due`);
    }
    for (const k of Object.keys(runs)) runs[k].push(median(ticks[k]));
  }
  clear.run(cycle, slot);
  raw.close();
  await app.close();
  progress(`tick ${pending.toLocaleString()} pending, ${due} due: delayd ${median(runs.delayd).toFixed(3)} ms, raw claim ${median(runs.claim).toFixed(3)} ms`);
  return resultRow({
    id: `tick.${pending}.${due}`,
    what: `tick, ${formatCount(pending)} pending, ${formatCount(due)} due`,
    unit: 'ms',
    better: 'lower',
    delayd: runs.delayd,
    baselines: [
      { name: 'ms raw claim (UPDATE..RETURNING of the slot, tx)', samples: runs.claim },
      { name: 'ms raw SELECT of the slot', samples: runs.read },
    ],
    target: due === 0 ? { text: '< 1 ms, flat in pending', ok: (d) => d < 1 } : undefined,
    note: `median of ${o.ticks} ticks per run`,
  });
}

function formatCount(n) {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

await main(import.meta.url, measure);
