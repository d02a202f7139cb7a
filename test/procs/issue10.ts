/** Helpers of the issue 10 end-to-end tests: daemons of the built CLI on one database file. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { TaskRow } from '../../src/store/types.js';
import { CLI, cli, Daemon } from '../fixtures/cli.js';

export const module = (name: string) => fileURLToPath(new URL(`./issue10-${name}.mjs`, import.meta.url));

/** `delayd daemon` serving only `handlers` (issue10-<name>.mjs), its runs logged next to `db`. */
/** Registers a SIGKILL of the daemon with the test's cleanup, so a failed test leaves no process. */
export function killedAtEnd(defer: (cleanup: () => void) => void) {
  return (d: Daemon): Daemon => {
    defer(() => d.child.kill('SIGKILL'));
    return d;
  };
}

export function daemon(db: string, handlers: string, extra: readonly string[] = []): Daemon {
  return new Daemon(db, ['daemon', '--db', db, '--handlers', module(handlers), ...extra], CLI);
}

export function runsLog(db: string): string {
  return join(db, '..', 'runs.log');
}

/** Enqueues JSON lines with `delayd enqueue --file`, as a producer without the handlers would. */
export async function enqueueLines(db: string, lines: readonly object[]): Promise<void> {
  const file = join(db, '..', `lines-${Date.now()}-${Math.random()}.jsonl`);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  const result = await cli(['enqueue', '--file', file, '--db', db], { timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`enqueue --file exited ${result.code}: ${result.stderr}`);
}

/** Every task row, through the store (read only in effect). */
export async function rows(db: string): Promise<TaskRow[]> {
  if (!existsSync(db)) return [];
  const store = new SqliteStore({ path: db, mustExist: true });
  try {
    return (await store.list({ limit: 1_000_000 })).sort((a, b) => a.id - b.id);
  } finally {
    await store.close();
  }
}

/** Polls `done` every 50 ms until it holds; fails with `what` (and the last value of `show`) at the deadline. */
export async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 20_000, show: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await show())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
