// Enqueues `work` tasks one by one from its own process, racing the schedulers' ticks.
// Usage: node producer.mjs DB FROM COUNT
import { Scheduler } from '../../dist/index.js';
import { createLogger } from '../../dist/logger.js';

const [db, from, count] = process.argv.slice(2);
const app = new Scheduler({ db, logger: createLogger({ level: 'silent' }) });
const work = app.task('work')((n, ms) => [n, ms]);
for (let n = Number(from); n < Number(from) + Number(count); n++) {
  await work.delay([n, n % 7], { countdown: (n % 5) * 0.3 });
}
await app.close();
