// The work of examples/log-count.js (seed 001: count the matching lines of many log files),
// as plain functions with no delayd import, so every worker thread can import this module
// and find `count_matches` by its name without opening anything.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The entries we look for: errors and warnings about timeouts or refused connections. */
export const PATTERN = /^\S+ (\S+) (\w+)\[(\d+)\]: level=(?:ERROR|WARN) .*\b(?:timeout|refused)\b/;

/** The map step: one file in, its number of matching lines out. CPU-bound on purpose. */
export function count_matches(path) {
  let count = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) if (PATTERN.test(line)) count++;
  return count;
}

/** Writes `files` log files of `lines` lines each into `dir`, the same for the same seed. */
export function generateLogs(dir, { files, lines, seed = 1 }) {
  mkdirSync(dir, { recursive: true });
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const messages = ['request served', 'upstream timeout after 30s', 'connection refused by db', 'cache miss', 'user logged in', 'retrying after timeout'];
  const paths = [];
  for (let f = 0; f < files; f++) {
    const out = [];
    for (let i = 0; i < lines; i++) {
      const at = new Date(Date.UTC(2030, 0, 1) + f * 86_400_000 + i * 250).toISOString();
      out.push(`${at} web-${f % 4} app[${1000 + (i % 97)}]: level=${pick(levels)} msg="${pick(messages)}" user=${Math.floor(random() * 1e6)}`);
    }
    const path = join(dir, `app-${String(f).padStart(3, '0')}.log`);
    writeFileSync(path, `${out.join('\n')}\n`);
    paths.push(path);
  }
  return paths;
}
