/**
 * Shared by throughput.js and catchup.js: a delayd database holding n tasks already due, and a
 * scheduler run over it that times the first start and the moment every outcome is durable
 * (committed: no task left scheduled or running, read through a second connection).
 */
import Database from 'better-sqlite3';
import { Scheduler } from '../dist/index.js';
import { args105, silentLogger, until } from './lib.js';

/**
 * Inserts n tasks due over the `spreadS` seconds before `nowMs` through a producer scheduler:
 * `ordered`, due in the order they were inserted (as with one fixed countdown), so tasks due
 * together sit together in the table; otherwise scattered (as with countdowns of every length).
 */
export async function fillDue(path, n, nowMs, spreadS, { firstId = 0, ordered = false } = {}) {
  const producer = new Scheduler({ db: path, logger: silentLogger });
  const noop = producer.task('noop')(async () => {});
  for (let from = 0; from < n; from += 10_000) {
    const items = [];
    for (let i = from; i < Math.min(n, from + 10_000); i++) {
      items.push({ args: args105(firstId + i), when: { eta: nowMs - 1 - backMs(i, n, spreadS, ordered) } });
    }
    await noop.delayMany(items);
  }
  await producer.close();
}

/** How long before now task i of n falls due (see fillDue); raw tables use the same. */
export function backMs(i, n, spreadS, ordered) {
  return ordered ? Math.floor(((n - i) * spreadS * 1000) / n) : (i * 7919) % (spreadS * 1000);
}

/** Watches a scheduler until `n` more tasks have succeeded and the store says all are done. */
export function watch(app, path, n) {
  const reader = new Database(path, { readonly: true });
  // These tasks are all due already, so in the wheel index, none in an hour bucket.
  const open = reader.prepare(`
    SELECT (SELECT count(*) FROM tasks INDEXED BY tasks_running WHERE state = 'running')
         + (SELECT count(*) FROM tasks INDEXED BY tasks_wheel WHERE state = 'scheduled' AND in_wheel = 1)`).pluck();
  let firstMs = null;
  let succeeded = 0;
  let early = 0;
  const onAccepted = (e) => {
    firstMs ??= performance.now();
    if (e.lateMs < 0) early++;
  };
  const onSucceeded = () => succeeded++;
  app.on('accepted', onAccepted);
  app.on('succeeded', onSucceeded);
  return {
    get firstMs() {
      return firstMs;
    },
    /** Resolves with performance.now() when all n are durable. */
    async done() {
      await until(() => succeeded >= n, 1);
      await until(() => open.get() === 0, 0);
      const at = performance.now();
      app.off('accepted', onAccepted);
      app.off('succeeded', onSucceeded);
      const ok = reader.prepare(`SELECT count(*) FROM tasks WHERE state = 'succeeded'`).pluck().get();
      reader.close();
      if (early > 0) throw new Error(`${early} tasks started before their due time`);
      return { at, succeededInDb: ok };
    },
  };
}

export function newScheduler(path, o) {
  const app = new Scheduler({ db: path, logger: silentLogger, concurrency: o.concurrency });
  app.task('noop')(async () => {});
  return app;
}
