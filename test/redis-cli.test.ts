/**
 * Every `delayd` command on Redis end to end (`--db redis://127.0.0.1:PORT`, a server of the
 * test's own on a free loopback port, FLUSHALL between tests), each also with --json; a
 * daemon runs what must run (retry needs a failed task, batch a finished batch); a
 * malformed Redis URL is refused with one coded line and exit 1, before anything connects;
 * a well-formed one with no server behind it fails with E_BACKEND_UNAVAILABLE.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import { cli, cliJson, Daemon, tempDir } from './fixtures/cli.js';
import { scenarios } from './helpers.js';
import { freePort, rawCommand, startRedis, stopAllRedis, type RedisServer } from './redis/servers.js';

const { defer } = scenarios();
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(stopAllRedis);
beforeEach(async () => {
  await rawCommand(redis.port, ['FLUSHALL']);
});

const db = () => ['--db', redis.url];

/** The ids a command printed, one per line. */
const id = (stdout: string) => Number(stdout.trim());

describe('delayd on Redis', () => {
  it('enqueue, stats, list, show, reschedule, cancel and purge, as text and --json', async () => {
    const first = await cli(['enqueue', 'fast', '--args', '[1, "a"]', '--countdown', '60', '--key', 'k1', '--retries', '2', ...db()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^\d+\n$/);
    const a = id(first.stdout);
    expect(first.stderr).toMatch(/no live daemon serves "fast"/);
    expect(await cliJson(['enqueue', 'fast', '--args', '[2]', '--key', 'k1', ...db()])).toMatchObject({ id: a, name: 'fast', created: false });
    const b = (await cliJson<{ id: number; created: boolean }>(['enqueue', 'other', '--eta', '2031-01-01T00:00:00Z', ...db()]));
    expect(b.created).toBe(true);

    const stats = await cliJson<Record<string, unknown>>(['stats', ...db()]);
    expect(stats).toMatchObject({ scheduled: 2, running: 0, succeeded: 0, failed: 0, cancelled: 0, daemons: [] });
    expect(Date.parse(stats.nextDue as string)).toBeGreaterThan(Date.now() + 50_000);
    expect((await cli(['stats', ...db()])).stdout).toMatch(/scheduled\s+2\n/);

    const list = await cliJson<Record<string, unknown>[]>(['list', ...db()]);
    expect(list.map((t) => t.id).sort()).toEqual([a, b.id].sort());
    const row = list.find((t) => t.id === a)!;
    expect(row).toMatchObject({ name: 'fast', state: 'scheduled', args: [1, 'a'], attempts: 0, retries: 2, key: 'k1' });
    expect(await cliJson(['list', '--name', 'other', ...db()])).toMatchObject([{ id: b.id, name: 'other' }]);
    expect((await cli(['list', ...db()])).stdout).toMatch(/^\s*ID\s+NAME\s+STATE\s+DUE\s+ATTEMPTS\s+ERROR\s+ARGS\n/);
    expect(await cliJson(['show', String(a), ...db()])).toEqual(row);
    expect((await cli(['show', String(a), ...db()])).stdout).toMatch(new RegExp(`^id\\s+${a}\\nname\\s+fast\\nstate\\s+scheduled\\n`));

    const moved = await cliJson<{ due: string }>(['reschedule', String(a), '--eta', '2031-02-03T04:05:06Z', ...db()]);
    expect(moved.due).toBe('2031-02-03T04:05:06.000Z');
    expect((await cli(['reschedule', String(a), '--countdown', '120', ...db()])).stdout).toMatch(new RegExp(`^task ${a} \\(fast\\) is now due at \\S+Z\\n$`));
    expect(await cliJson(['cancel', String(a), ...db()])).toMatchObject({ id: a, state: 'cancelled' });
    expect((await cli(['cancel', String(b.id), ...db()])).code).toBe(0);
    expect(await cliJson(['purge', '--older-than', '1h', ...db()])).toMatchObject({ purged: 0 });
    expect(await cliJson(['purge', '--older-than', '0s', ...db()])).toMatchObject({ purged: 2 });
    expect(await cliJson(['list', ...db()])).toEqual([]);
    expect(await cli(['show', String(a), ...db()])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^delayd: E_NOT_FOUND: /) });
  }, 60_000);

  it('enqueue --file writes JSON Lines in chunks and dedupes by key', async () => {
    const t = tempDir();
    defer(t.remove);
    const file = join(t.dir, 'tasks.jsonl');
    const lines = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ name: 'fast', args: [i], countdown: 3600, ...(i < 5 ? { key: 'dup' } : {}) }));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await cli(['enqueue', '--file', file, '--json', ...db()], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ lines: 12_000, enqueued: 11_996, deduplicated: 4 });
    expect(await cliJson(['stats', ...db()])).toMatchObject({ scheduled: 11_996 });
  }, 30_000);

  it('retry sends a failed task back; batch reports a finished batch; a daemon on Redis runs both', async () => {
    const d = new Daemon(redis.url, ['--heartbeat', '0.5', '--log-level', 'info']);
    defer(() => d.child.kill('SIGKILL'));
    await d.waitFor('the daemon to start', (x) => x.count('scheduler started') > 0, 15_000);
    const boom = await cliJson<{ id: number }>(['enqueue', 'boom', '--args', '["no"]', ...db()]);
    const failed = () => d.events.filter((e) => e.msg === 'failed' && e.taskId === boom.id).length;
    await d.waitFor('the task to fail', () => failed() === 1, 15_000);
    expect(await cliJson(['show', String(boom.id), ...db()])).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringContaining('no') });
    expect(await cliJson(['retry', String(boom.id), ...db()])).toMatchObject({ id: boom.id, state: 'scheduled' });
    await d.waitFor('the retried task to fail again', () => failed() === 2, 15_000);
    expect(await cliJson(['show', String(boom.id), ...db()])).toMatchObject({ state: 'failed', attempts: 2 });
    expect((await cli(['retry', String(boom.id), ...db()])).stdout).toMatch(new RegExp(`task ${boom.id}`));

    // A batch made by a producer process (this one), run by the daemon.
    const producer = new Scheduler({ db: redis.url, logger: createLogger({ level: 'silent' }) });
    defer(() => producer.close());
    const fast = producer.task('fast')(async (n: number) => n);
    const batch = await fast.map([[1], [2], [3], [4]], { countdown: 0 });
    await d.waitFor('the batch items to succeed', (x) => x.events.filter((e) => e.msg === 'succeeded' && e.name === 'fast').length >= 4, 15_000);
    const until = Date.now() + 10_000;
    let shown: Record<string, unknown> = {};
    while (Date.now() < until && shown.complete !== true) shown = await cliJson(['batch', String(batch.id), ...db()]);
    expect(shown).toMatchObject({ id: batch.id, name: 'fast', total: 4, succeeded: 4, failed: 0, pending: 0, complete: true, succeededItems: [0, 1, 2, 3] });
    expect((await cli(['batch', String(batch.id), '--item', '2', ...db()])).stdout).toBe('succeeded\n');
    expect((await cli(['batch', String(batch.id), ...db()])).stdout).toMatch(/items\s+4: 4 succeeded, 0 failed, 0 pending \(100% done\)/);
    expect((await d.stop()).code).toBe(0);
  }, 60_000);
});

describe('a Redis target with no server', () => {
  it('a well-formed URL with no server behind it fails with E_BACKEND_UNAVAILABLE, exit 1', async () => {
    const port = await freePort();
    const result = await cli(['stats', '--db', `redis://127.0.0.1:${port}`], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^delayd: E_BACKEND_UNAVAILABLE: /);
  }, 30_000);
});
