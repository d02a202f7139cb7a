/**
 * The lateness baseline, run beside delayd at the same time: `node bench/timers-child.js
 * <t0> <offsets file>` aims a bare setTimeout at each eta t0 + offset and prints, as JSON, the
 * Date.now() at which each fired minus its eta.
 */
import { readFileSync } from 'node:fs';

const [t0, file] = process.argv.slice(2);
const offsets = JSON.parse(readFileSync(file, 'utf8'));
const late = [];
for (const off of offsets) {
  const eta = Number(t0) + off;
  setTimeout(() => {
    late.push(Date.now() - eta);
    if (late.length === offsets.length) process.stdout.write(`${JSON.stringify(late)}\n`);
  }, eta - Date.now());
}
