/**
 * Batches and thread isolation under the real daemon: `delayd daemon --threads 2` serves a
 * module whose map step runs in worker threads and whose reduce runs in the daemon; the batch
 * is created from another process, and `delayd batch --watch` returns once all is done.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { Scheduler } from '../src/scheduler.js';
import { cli, cliJson, Daemon, tempDir } from './fixtures/cli.js';

const MODULE = fileURLToPath(new URL('./procs/batch-daemon-handlers.mjs', import.meta.url));

let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon | undefined;
beforeEach(async () => {
  tmp = tempDir();
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  tmp.remove();
});

describe('the daemon with --threads', () => {
  it('runs a batch’s items in worker threads and its reduce once in the daemon', async () => {
    daemon = new Daemon(tmp.db, ['--handlers', MODULE, '--threads', '2']);
    await daemon.waitFor('start', (d) => d.count('scheduler started') === 1);

    const producer = new Scheduler({ db: tmp.db, logger: createLogger({ level: 'silent' }) });
    const square = producer.task('square_in_thread', { isolation: 'thread' })((n: number) => n);
    const total = producer.task('total_of_squares')((batchId: number) => batchId);
    const batch = await square.map(Array.from({ length: 20 }, (_, n) => [n] as [number]), { reduce: total });
    await producer.close();

    const watched = await cli(['batch', String(batch.id), '--watch', '--json', '--db', tmp.db], { timeoutMs: 30_000 });
    expect(watched.code).toBe(0);
    const shown = JSON.parse(watched.stdout) as { succeeded: number; reduce: { taskId: number; state: string } };
    expect(shown).toMatchObject({ succeeded: 20, failed: 0, pending: 0, reduce: { state: 'succeeded' } });
    const reduceTask = await cliJson<{ result: unknown }>(['show', String(shown.reduce.taskId), '--db', tmp.db]);
    expect(reduceTask.result).toBe(Array.from({ length: 20 }, (_, n) => n * n).reduce((a, b) => a + b, 0));

    const items = await cliJson<{ result: { threadId: number; isMainThread: boolean } }[]>(['list', '--name', 'square_in_thread', '--db', tmp.db]);
    expect(items).toHaveLength(20);
    expect(items.every((t) => !t.result.isMainThread && t.result.threadId > 0)).toBe(true);
    expect(new Set(items.map((t) => t.result.threadId)).size).toBeLessThanOrEqual(2);
    expect(daemon.count('succeeded')).toBe(21);
  }, 60_000);
});
