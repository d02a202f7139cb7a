/**
 * 2 (cont.). `delayd enqueue --file`: a JSON Lines file of n tasks (105-byte args, countdowns
 * spread over a day) into a fresh database, timed from process start to exit, so it includes
 * Node's start-up and reading the file. The baseline is raw INSERTs batched the same way
 * (10,000 per transaction, as the CLI does) in this process, plus the cost of starting a bare
 * `node -e ''`, measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rawBatchedInserts } from './baseline.js';
import { args105, freshDb, main, progress, removeDb, resultRow, spreadCountdown } from './lib.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DAY_S = 86_400;
const CLI_BATCH = 10_000;

export async function measure(o) {
  if (!existsSync(CLI)) {
    progress('enqueue-file: dist/cli.js does not exist; skipped');
    return [];
  }
  const n = o.bulk;
  const file = freshDb(o.dir, 'tasks').replace(/\.db$/, '.jsonl');
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ name: 'send', args: args105(i), countdown: spreadCountdown(i, DAY_S) }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  const delayd = [];
  const raw = [];
  const node = [];
  for (let run = 0; run < o.runs; run++) {
    const nowMs = Date.now();
    const rawPath = freshDb(o.dir, 'raw-file');
    raw.push(rawBatchedInserts(rawPath, n, CLI_BATCH, (i) => nowMs + Math.round(spreadCountdown(i, DAY_S) * 1000)));
    removeDb(rawPath);
    let t0 = performance.now();
    execFileSync(process.execPath, ['-e', '']);
    node.push(performance.now() - t0);
    const db = freshDb(o.dir, 'delayd-file');
    t0 = performance.now();
    execFileSync(process.execPath, [CLI, 'enqueue', '--file', file, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
    delayd.push(n / ((performance.now() - t0) / 1000));
    removeDb(db);
    progress(`enqueue-file run ${run + 1}: delayd ${delayd[run].toFixed(0)}/s, raw ${raw[run].toFixed(0)}/s`);
  }
  rmSync(file, { force: true });
  return [
    resultRow({
      id: 'enqueue.file',
      what: `delayd enqueue --file (${n.toLocaleString()} lines, whole process)`,
      unit: 'tasks/s',
      better: 'higher',
      delayd,
      baselines: [
        { name: `raw INSERT/s, ${CLI_BATCH} per tx, wheel index`, samples: raw },
        { name: 'ms to start a bare node', samples: node },
      ],
      target: { text: '>= 300k tasks/s', ok: (d) => d >= 300_000 },
    }),
  ];
}

await main(import.meta.url, measure);
