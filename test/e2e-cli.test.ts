/**
 * The CLI end to end, as a shell user runs it: real child processes on a temporary database,
 * no daemon needed to enqueue or inspect. --json outputs are parsed and checked for their
 * documented shape.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, cliJson, countsByState, tempDir } from './fixtures/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const db = () => ['--db', tmp.db];

describe('enqueue and inspect', () => {
  it('enqueue prints the id; stats, list and show report it as documented', async () => {
    const first = await cli(['enqueue', 'fast', '--args', '[1, "a"]', '--countdown', '60', '--key', 'k1', '--retries', '2', ...db()]);
    expect(first).toMatchObject({ code: 0, stdout: '1\n' });
    expect(first.stderr).toMatch(/^delayd: warning: no live daemon serves "fast" \(no daemon is running on this database\)/);

    const again = await cliJson<Record<string, unknown>>(['enqueue', 'fast', '--args', '[2]', '--key', 'k1', ...db()]);
    expect(again).toMatchObject({ id: 1, name: 'fast', created: false });

    const stats = await cliJson<Record<string, unknown>>(['stats', ...db()]);
    expect(stats).toMatchObject({ scheduled: 1, running: 0, succeeded: 0, failed: 0, cancelled: 0, cursor: null, inBuckets: 0, daemons: [] });
    expect(Date.parse(stats.nextDue as string)).toBeGreaterThan(Date.now() + 50_000);
    expect(stats.busiestSlots).toEqual([{ slot: expect.any(Number), count: 1 }]);

    const list = await cliJson<Record<string, unknown>[]>(['list', ...db()]);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: 1, name: 'fast', state: 'scheduled', args: [1, 'a'], attempts: 0, retries: 2, key: 'k1' });

    const shown = await cliJson<Record<string, unknown>>(['show', '1', ...db()]);
    expect(shown).toEqual(list[0]);
    expect(Object.keys(shown)).toEqual(expect.arrayContaining(['due', 'created', 'started', 'finished', 'lastError', 'result']));

    const table = await cli(['list', ...db()]);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+STATE\s+DUE\s+ATTEMPTS\s+ERROR\s+ARGS\n\s*1\s+fast\s+scheduled\s.*\s0\s+-\s+\[1,"a"\]\n$/);
    const text = await cli(['stats', ...db()]);
    expect(text.stdout).toMatch(/scheduled\s+1\n/);
    expect(text.stdout).toMatch(/next due\s+\S+ \(in \d+s\)/);
    expect((await cli(['show', '1', ...db()])).stdout).toMatch(/^id\s+1\nname\s+fast\nstate\s+scheduled\nargs\s+\[1,"a"\]\n/);
  });

  it('list filters by state and name, newest first, up to --limit', async () => {
    for (const name of ['a', 'b', 'a', 'a']) expect((await cli(['enqueue', name, '--countdown', '60', ...db()])).code).toBe(0);
    expect((await cli(['cancel', '3', ...db()])).code).toBe(0);
    const ids = async (args: string[]) => (await cliJson<{ id: number }[]>(['list', ...args, ...db()])).map((t) => t.id);
    expect(await ids([])).toEqual([4, 3, 2, 1]);
    expect(await ids(['--name', 'a'])).toEqual([4, 3, 1]);
    expect(await ids(['--name', 'a', '--state', 'scheduled'])).toEqual([4, 1]);
    expect(await ids(['--limit', '2'])).toEqual([4, 3]);
  });

  it('reschedule moves a task, cancel ends it, purge removes it once finished', async () => {
    await cli(['enqueue', 'fast', '--countdown', '30', ...db()]);
    const moved = await cliJson<{ due: string }>(['reschedule', '1', '--eta', '2031-02-03T04:05:06Z', ...db()]);
    expect(moved.due).toBe('2031-02-03T04:05:06.000Z');
    const human = await cli(['reschedule', '1', '--countdown', '120', ...db()]);
    expect(human.stdout).toMatch(/^task 1 \(fast\) is now due at \S+Z\n$/);

    const cancelled = await cliJson<{ state: string; finished: string }>(['cancel', '1', ...db()]);
    expect(cancelled.state).toBe('cancelled');
    expect((await cliJson<{ purged: number }>(['purge', '--older-than', '1h', ...db()])).purged).toBe(0);
    expect(await cliJson(['purge', '--older-than', '0s', ...db()])).toMatchObject({ purged: 1 });
    expect(await cliJson(['list', ...db()])).toEqual([]);
  });
});

describe('enqueue --file', () => {
  it('enqueues JSON Lines in transactions of 10,000 and reports counts', async () => {
    const lines = Array.from({ length: 25_000 }, (_, i) => JSON.stringify({ name: 'fast', args: [i], countdown: 3600, ...(i < 10 ? { key: 'dup' } : {}) }));
    const file = join(tmp.dir, 'tasks.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await cli(['enqueue', '--file', file, '--json', ...db()], { timeoutMs: 20_000 });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ lines: 25_000, enqueued: 24_991, deduplicated: 9, batches: 3 });
    expect(countsByState(tmp.db)).toEqual({ scheduled: 24_991 });
  });

  it('reads stdin with --file -', async () => {
    const input = '{"name": "fast", "args": [1]}\n\n{"name": "slow", "args": [5], "eta": "2031-01-01T00:00:00Z"}\r\n';
    const result = await cli(['enqueue', '--file', '-', ...db()], { input });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('enqueued 2 tasks from 3 lines in 1 transactions; 0 deduplicated by key\n');
    expect(result.stderr).toMatch(/no live daemon serves "fast", "slow"/);
  });

  it('a bad line: its line number, nothing of its batch written, earlier batches kept', async () => {
    const lines = Array.from({ length: 12_000 }, (_, i) => JSON.stringify({ name: 'fast', args: [i] }));
    lines[10_499] = '{"name": "fast", "countdown": "soon"}';
    const file = join(tmp.dir, 'bad.jsonl');
    writeFileSync(file, lines.join('\n'));
    const result = await cli(['enqueue', '--file', file, ...db()], { timeoutMs: 20_000 });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'delayd: E_BAD_COUNTDOWN: line 10500: Expected `countdown` to be a finite number of seconds >= 0, got `"soon"` (string); ' +
        'lines 1-10000 were committed (10000 tasks); nothing from line 10001 on was written\n',
    );
    expect(countsByState(tmp.db)).toEqual({ scheduled: 10_000 });
  });
});

describe('help', () => {
  it.each(['daemon', 'enqueue', 'stats', 'list', 'show', 'cancel', 'retry', 'reschedule', 'purge'])('%s --help shows examples', async (command) => {
    const result = await cli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Examples:\\n\\s+delayd ${command}`));
  });
  it('delayd --help lists every command and the exit statuses', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['daemon', 'enqueue', 'stats', 'list', 'show', 'cancel', 'retry', 'reschedule', 'purge']) {
      expect(result.stdout).toContain(`delayd ${command}`);
    }
    expect(result.stdout).toMatch(/Exit status: 0 on success, 1 on an error/);
  });
});
