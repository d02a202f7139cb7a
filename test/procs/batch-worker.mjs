// A scheduler in its own process for test/batch-crash.test.ts: runs the items of a batch
// (`square`) and its reduce (`total`), appending one line per execution to a log file:
//   I <index> <pid>      an item ran
//   R <batchId> <pid>    the reduce ran
// With mode `kill-before-reduce`, it SIGKILLs itself right after the store commits the
// transaction that completes the batch (and so inserts the reduce task), before any tick can
// claim that task: the crash falls exactly between the last item and the reduce.
// Usage: node batch-worker.mjs DB LOG MODE BATCH_ID
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduler } from '../../dist/index.js';
import { createLogger } from '../../dist/logger.js';
import { SqliteStore } from '../../dist/store/sqlite/index.js';

const [db, log, mode, batchIdArg] = process.argv.slice(2);
const batchId = Number(batchIdArg);

class KillAfterLastItem extends SqliteStore {
  async record(outcomes) {
    const applied = await super.record(outcomes);
    if ((await this.getBatch(batchId))?.reduceTaskId != null) process.kill(process.pid, 'SIGKILL');
    return applied;
  }
}

const store = mode === 'kill-before-reduce' ? new KillAfterLastItem({ path: db }) : new SqliteStore({ path: db });
const app = new Scheduler({
  store,
  concurrency: 10,
  heartbeatMs: 200,
  leaseMs: 1_000,
  drainMs: 2_000,
  logger: createLogger({ level: 'silent' }),
});

app.task('square')(async (n) => {
  appendFileSync(log, `I ${n} ${process.pid}\n`);
  await sleep(10 + (n % 7) * 10);
  return n * n;
});

app.task('total')(async (id) => {
  appendFileSync(log, `R ${id} ${process.pid}\n`);
  let sum = 0;
  for await (const item of (await app.batch(id)).results()) sum += item.value ?? 0;
  return sum;
});

process.on('SIGTERM', async () => {
  await app.close();
  store.close();
  process.exit(0);
});
app.start();
process.stdout.write('ready\n');
