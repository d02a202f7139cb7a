// A scheduler in its own process for the multi-process tests: runs `work` tasks and appends
// one line per start and end to a log file, so the test can count executions per task.
// Usage: node worker.mjs DB LOG
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Scheduler } from '../../dist/index.js';
import { createLogger } from '../../dist/logger.js';

const [db, log] = process.argv.slice(2);
const app = new Scheduler({
  db,
  concurrency: 20,
  queueSize: 200,
  heartbeatMs: 200,
  leaseMs: 1_000,
  drainMs: 2_000,
  logger: createLogger({ level: 'silent' }),
});

app.task('work')(async function (n, ms) {
  appendFileSync(log, `S ${this.id} ${process.pid} ${Date.now()}\n`);
  await sleep(ms);
  appendFileSync(log, `E ${this.id} ${process.pid} ${Date.now()}\n`);
  return n;
});

process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
app.start();
process.stdout.write('ready\n');
