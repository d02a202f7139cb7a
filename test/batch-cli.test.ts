/** `delayd batch ID` end to end: the built CLI in a child process, on a batch made in-process. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestScheduler } from '../src/testing.js';
import { cli, cliJson, tempDir } from './fixtures/cli.js';
import { T0 } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(async () => {
  tmp = tempDir();
});
afterEach(async () => tmp.remove());

/** A finished batch of 10 items (every third fails) with a reduce, and an unfinished one. */
async function makeBatches(db: string): Promise<{ done: number; open: number }> {
  const t = createTestScheduler({ db, now: T0, asDefault: false });
  const item = t.scheduler.task('item')((n: number) => {
    if (n % 3 === 0) throw new Error('no');
    return n;
  });
  const reduce = t.scheduler.task('collect')(() => 'ok');
  t.scheduler.start();
  const done = await item.map(Array.from({ length: 10 }, (_, i) => [i] as [number]), { countdown: 1, reduce, key: 'k' });
  const open = await item.map([[1], [2]], { countdown: 3_600 });
  await t.advance(3_000);
  await t.close();
  return { done: done.id, open: open.id };
}

describe('delayd batch', () => {
  it('shows counts, the reduce and the item lists; --json has the full lists; --item answers one', async () => {
    const { done, open } = await makeBatches(tmp.db);
    const db = ['--db', tmp.db];
    const text = await cli(['batch', String(done), ...db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^batch\s+1 \(item\), key k\nitems\s+10: 6 succeeded, 4 failed, 0 pending \(100% done\)\n/);
    expect(text.stdout).toMatch(/reduce\s+collect, task 13: succeeded\n/);
    expect(text.stdout).toMatch(/failed\s+0, 3, 6, 9 \(4\)\nsucceeded\s+1, 2, 4, 5, 7, 8 \(6\)\n$/);

    const json = await cliJson<Record<string, unknown>>(['batch', String(done), '--json', ...db]);
    expect(json).toMatchObject({
      id: done,
      name: 'item',
      total: 10,
      succeeded: 6,
      failed: 4,
      pending: 0,
      complete: true,
      key: 'k',
      reduce: { name: 'collect', taskId: 13, state: 'succeeded' },
      succeededItems: [1, 2, 4, 5, 7, 8],
      failedItems: [0, 3, 6, 9],
    });
    expect((await cliJson<Record<string, unknown>>(['batch', String(open), '--json', ...db])).pending).toBe(2);

    expect((await cli(['batch', String(done), '--item', '3', ...db])).stdout).toBe('failed\n');
    expect(await cliJson(['batch', String(done), '--item', '4', '--json', ...db])).toEqual({ batch: done, item: 4, status: 'succeeded' });
    expect((await cli(['batch', String(open), '--item', '0', ...db])).stdout).toBe('pending\n');
  });

  it('--watch returns once the batch and its reduce are done, with no bar off a terminal', async () => {
    const { done } = await makeBatches(tmp.db);
    const watched = await cli(['batch', String(done), '--watch', '--db', tmp.db]);
    expect(watched.code).toBe(0);
    expect(watched.stderr).toBe('');
    expect(watched.stdout).toMatch(/items\s+10: 6 succeeded, 4 failed, 0 pending/);
  });

  it('fails with one line and exit 1 for an unknown batch, a bad id or an item out of range', async () => {
    await makeBatches(tmp.db);
    const db = ['--db', tmp.db];
    expect(await cli(['batch', '99', ...db])).toMatchObject({ code: 1, stderr: 'delayd: E_NOT_FOUND: No batch with id 99\n' });
    expect((await cli(['batch', 'x', ...db])).stderr).toMatch(/^delayd: E_BAD_OPTION: Expected a batch ID \(a positive integer\), got `"x"`/);
    expect((await cli(['batch', '1', '--item', '10', ...db])).stderr).toMatch(/Expected an item index from 0 to 9, got `10`/);
    const help = await cli(['batch', '--help']);
    expect(help.stdout).toMatch(/Examples:\n\s+delayd batch 7/);
  });
});
