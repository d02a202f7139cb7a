/**
 * 3 (cont.). The idle daemon: CPU (fraction of one core, all threads) and RSS of a process
 * serving an empty database and each pending size with nothing due, beside a raw
 * better-sqlite3 process polling the same file once a second. Neither should grow with the
 * number of pending tasks. The daemon is `delayd daemon` (dist/cli.js, a handlers module from
 * examples/) when it is built, else a started Scheduler; each process is sampled from outside
 * through /proc (Linux) after a 2 s warm-up, and the windows are the runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Scheduler } from '../dist/index.js';
import { freshDb, main, median, progress, removeDb, resultRow, silentLogger, sleep } from './lib.js';
import { pendingDb } from './pending.js';

const CHILD = fileURLToPath(new URL('./idle-child.js', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const HANDLERS = fileURLToPath(new URL('../examples/handlers.js', import.meta.url));

export async function measure(o) {
  if (!existsSync('/proc/self/task')) {
    progress('idle: needs /proc (Linux); skipped');
    return [];
  }
  const useCli = existsSync(CLI) && existsSync(HANDLERS);
  const what = useCli ? 'idle `delayd daemon`' : 'idle Scheduler';
  const rows = [];
  const windowMs = Math.round((o.idleSeconds * 1000) / o.runs);
  for (const pending of [0, ...o.pending]) {
    const path = pending === 0 ? await emptyDb(o.dir) : pendingDb(o.dir, pending);
    const raw = await sample([CHILD, 'raw', path], windowMs, o.runs);
    const daemon = useCli
      ? await sample([CLI, 'daemon', '--handlers', HANDLERS, '--db', path, '--log-level', 'silent'], windowMs, o.runs)
      : await sample([CHILD, 'scheduler', path], windowMs, o.runs);
    if (pending === 0) removeDb(path);
    const label = pending === 0 ? 'empty db' : `${pending >= 1e6 ? `${pending / 1e6}M` : pending.toLocaleString()} pending`;
    progress(`idle ${label}: delayd ${median(daemon.core).toFixed(3)}% core, ${median(daemon.rss).toFixed(0)} MB; raw ${median(raw.core).toFixed(3)}%`);
    rows.push(
      resultRow({
        id: `idle.cpu.${pending}`,
        what: `${what} CPU, ${label}`,
        unit: '% core',
        better: 'lower',
        delayd: daemon.core,
        baselines: [{ name: '% raw 1/s poller', samples: raw.core }],
        target: { text: '< 1% of a core', ok: (d) => d < 1 },
        note: `${windowMs} ms windows`,
      }),
      resultRow({
        id: `idle.rss.${pending}`,
        what: `${what} RSS, ${label}`,
        unit: 'MB',
        better: 'lower',
        delayd: daemon.rss,
        baselines: [{ name: 'MB raw 1/s poller', samples: raw.rss }],
        target: { text: '< 100 MB', ok: (d) => d < 100 },
      }),
    );
  }
  return rows;
}

async function emptyDb(dir) {
  const path = freshDb(dir, 'idle-empty');
  await new Scheduler({ db: path, logger: silentLogger }).close();
  return path;
}

/** Starts `node ...args`, waits 2 s, then samples CPU and RSS over `windows` windows. */
async function sample(args, windowMs, windows) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await sleep(2000);
    const core = [];
    const rss = [];
    for (let w = 0; w < windows; w++) {
      const cpu0 = cpuSeconds(child.pid);
      const t0 = performance.now();
      await sleep(windowMs);
      core.push(((cpuSeconds(child.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100);
      rss.push(rssMb(child.pid));
    }
    return { core, rss };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** CPU seconds of every thread of a process, from /proc/<pid>/task/<tid>/schedstat (ns). */
function cpuSeconds(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return ns / 1e9;
}

function rssMb(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

await main(import.meta.url, measure);
