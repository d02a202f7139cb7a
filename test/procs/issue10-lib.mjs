// Shared by the issue 10 handler modules: one line per start and end of an attempt, in a
// file next to the database ($DELAYD_DB), in the format harness.ts readExecutions() reads.
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const REC = join(dirname(process.env.DELAYD_DB ?? '.'), 'runs.log');

export function mark(kind, id) {
  appendFileSync(REC, `${kind} ${id} ${process.pid} ${Date.now()}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
