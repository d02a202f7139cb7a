/**
 * A process idle.js measures from outside: `node bench/idle-child.js <scheduler|raw> <db>`,
 * running until SIGTERM. scheduler: a started Scheduler with a no-op handler (ticking each
 * second, heartbeating every 5 s). raw: better-sqlite3 on the same file reading the next due
 * row once a second, the least an idle poller can do.
 */
import Database from 'better-sqlite3';
import { Scheduler } from '../dist/index.js';
import { silentLogger } from './lib.js';

const [mode, path] = process.argv.slice(2);
let stop;
if (mode === 'scheduler') {
  const app = new Scheduler({ db: path, logger: silentLogger });
  app.task('noop')(async () => {});
  app.start();
  stop = () => app.close();
} else {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The raw poller reads the first due task off delayd's wheel index, as a 1/s poller would.
  const next = db.prepare(`
    SELECT due_ms FROM tasks WHERE state = 'scheduled' AND in_wheel = 1 ORDER BY cycle, slot, due_ms LIMIT 1`);
  const timer = setInterval(() => next.get(), 1000);
  stop = () => {
    clearInterval(timer);
    db.close();
  };
}
process.once('SIGTERM', async () => {
  await stop();
  process.exit(0);
});
