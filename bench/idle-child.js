/**
 * The process idle.js measures: `node bench/idle-child.js <delayd|raw> <db> <windowMs> <windows>`.
 * delayd: a started Scheduler with a no-op handler on the database (ticking each second,
 * heartbeating every 5 s). raw: better-sqlite3 on the same file reading the next due row once
 * a second, the least an idle poller can do. After a 2 s warm-up it prints, per window, the CPU
 * time over wall time (fraction of one core) and the RSS at the window's end.
 */
import Database from 'better-sqlite3';
import { Scheduler } from '../dist/index.js';
import { silentLogger, sleep } from './lib.js';

const [mode, path, windowMs, windows] = process.argv.slice(2);
let stop;
if (mode === 'delayd') {
  const app = new Scheduler({ db: path, logger: silentLogger });
  app.task('noop')(async () => {});
  app.start();
  stop = () => app.close();
} else {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const next = db.prepare(`SELECT due_ms FROM tasks WHERE state = 'scheduled' ORDER BY cycle, slot, due_ms LIMIT 1`);
  const timer = setInterval(() => next.get(), 1000);
  stop = () => {
    clearInterval(timer);
    db.close();
  };
}
await sleep(2000);
const samples = [];
for (let w = 0; w < Number(windows); w++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(Number(windowMs));
  const cpu = process.cpuUsage(cpu0);
  const wallUs = (performance.now() - t0) * 1000;
  samples.push({ core: (cpu.user + cpu.system) / wallUs, rssMb: process.memoryUsage().rss / 2 ** 20 });
}
await stop();
process.stdout.write(`${JSON.stringify({ samples, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
