/**
 * 3 (cont.). The idle daemon: CPU (fraction of one core) and RSS of a process running a started
 * Scheduler with nothing due, on an empty database and on each pending size, beside a raw
 * better-sqlite3 process polling the same file once a second. Neither should grow with the
 * number of pending tasks. One child process each; the windows are the runs.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freshDb, main, median, progress, removeDb, resultRow } from './lib.js';
import { pendingDb } from './pending.js';
import { Scheduler } from '../dist/index.js';
import { silentLogger } from './lib.js';

const CHILD = fileURLToPath(new URL('./idle-child.js', import.meta.url));

export async function measure(o) {
  const rows = [];
  const windowMs = Math.round((o.idleSeconds * 1000) / o.runs);
  for (const pending of [0, ...o.pending]) {
    const path = pending === 0 ? await emptyDb(o.dir) : pendingDb(o.dir, pending);
    const raw = child('raw', path, windowMs, o.runs);
    const delayd = child('delayd', path, windowMs, o.runs);
    if (pending === 0) removeDb(path);
    const label = pending === 0 ? 'empty db' : `${pending >= 1e6 ? `${pending / 1e6}M` : pending.toLocaleString()} pending`;
    progress(`idle ${label}: delayd ${(median(delayd.core) * 100).toFixed(3)}% core, ${median(delayd.rss).toFixed(0)} MB; raw ${(median(raw.core) * 100).toFixed(3)}%`);
    rows.push(
      resultRow({
        id: `idle.cpu.${pending}`,
        what: `idle daemon CPU, ${label}`,
        unit: '% core',
        better: 'lower',
        delayd: delayd.core.map((x) => x * 100),
        baselines: [{ name: '% raw 1/s poller', samples: raw.core.map((x) => x * 100) }],
        target: { text: '< 1% of a core', ok: (d) => d < 1 },
        note: `${windowMs} ms windows`,
      }),
      resultRow({
        id: `idle.rss.${pending}`,
        what: `idle daemon RSS, ${label}`,
        unit: 'MB',
        better: 'lower',
        delayd: delayd.rss,
        baselines: [{ name: 'MB raw 1/s poller', samples: raw.rss }],
        target: { text: '< 100 MB', ok: (d) => d < 100 },
        note: `peak RSS ${delayd.maxRssMb.toFixed(0)} MB (raw ${raw.maxRssMb.toFixed(0)} MB)`,
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

function child(mode, path, windowMs, windows) {
  const out = execFileSync(process.execPath, [CHILD, mode, path, String(windowMs), String(windows)], { encoding: 'utf8' });
  const { samples, maxRssMb } = JSON.parse(out.trim().split('\n').pop());
  return { core: samples.map((s) => s.core), rss: samples.map((s) => s.rssMb), maxRssMb };
}

await main(import.meta.url, measure);
