// Seed 000: record the 0/1 outcome of many tasks, count the successes, ask whether task i
// succeeded, and list the successes and the failures. A batch keeps each item's outcome as
// two bits (done, ok) in SQLite; its counts, membership answers and lists come from them.
// Run: node examples/bitmap-outcomes.js   (temporary database; about a second)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from 'delayd';

// About 300 of the tasks fail on purpose: keep their error lines out of this output.
process.env.DELAYD_LOG_LEVEL ??= 'fatal';
const N_TASK = 1_024;
const dir = mkdtempSync(join(tmpdir(), 'delayd-bitmap-'));
const app = new Scheduler({ db: join(dir, 'status.db'), concurrency: 10 });

// Each task succeeds with 70% chance. The handlers keep their own record too, to check against.
const record = new Map();
const runTask = app.task('run_task')((taskId) => {
  const ok = Math.random() < 0.7;
  record.set(taskId, ok);
  if (!ok) throw new Error(`task ${taskId} failed`);
  return taskId;
});

// The reduce step runs once, when every task has its final outcome.
let reduced;
const finished = new Promise((resolve) => (reduced = resolve));
const statistics = app.task('statistics')(async (batchId) => reduced(await app.batch(batchId)));

app.start();
const started = performance.now();
const batch = await runTask.map(Array.from({ length: N_TASK }, (_, taskId) => [taskId]), { reduce: statistics });
await finished;
console.log(`ran ${N_TASK} tasks in ${(performance.now() - started).toFixed(0)} ms (batch ${batch.id})`);

const { total, succeeded, failed, pending } = await batch.progress();
console.log(`n success = ${succeeded}, n failed = ${failed}, pending = ${pending}, total = ${total}`);
for (const taskId of [0, 1, 2, 511, 1023]) console.log(`task ${taskId}: ${await batch.status(taskId)}`);
const successes = await batch.succeeded();
const failures = await batch.failed();
console.log(`success: [${successes.slice(0, 20).join(', ')}, ...] (${successes.length})`);
console.log(`failed:  [${failures.slice(0, 20).join(', ')}, ...] (${failures.length})`);

// The bitmaps must agree with what the handlers saw, item by item.
const agree =
  successes.length === succeeded &&
  failures.length === failed &&
  successes.every((i) => record.get(i) === true) &&
  failures.every((i) => record.get(i) === false) &&
  record.size === N_TASK;
console.log(agree ? 'the bitmaps agree with the handlers’ own record' : 'MISMATCH between the bitmaps and the handlers');

await app.close();
rmSync(dir, { recursive: true, force: true });
process.exitCode = agree ? 0 : 1;
