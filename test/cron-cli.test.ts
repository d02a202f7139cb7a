/**
 * Issue 14: `delayd cron` (the built CLI): the periodic tasks of a database, as a table and as
 * JSON, read-only; and what it says when there are none.
 */
import { afterEach, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { occurrenceKey, type NewTask } from '../src/store/types.js';
import { cli, cliJson, snapshot, tempDir } from './fixtures/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

const T = Date.parse('2030-01-01T09:00:00.000Z');
const occ = (dueMs: number): NewTask => ({
  name: 'report', args: '["daily"]', dueMs, createdMs: T, key: occurrenceKey('report', dueMs), retries: null, backoffMs: null, timeoutMs: null,
});

it('lists each cron: expression, zone, next occurrence, last run and its outcome, serving daemons', async () => {
  const { db, remove } = tempDir();
  cleanups.push(remove);
  const store = new SqliteStore({ path: db });
  const def = { name: 'report', expression: '0 9 * * 1-5', tz: 'Europe/Paris', args: '["daily"]', missed: 'skip' as const };
  await store.syncCrons({ nowMs: T, crons: [{ def, first: occ(T) }], plain: [] });
  const [head] = (await store.claim({ owner: 'w1', uptoSecond: T / 1000, limit: 10, names: ['report'] })).tasks;
  await store.record([{ kind: 'started', id: head!.id, owner: 'w1', attempt: 1, atMs: T, next: occ(T + 86_400_000) }]);
  await store.record([{ kind: 'failed', id: head!.id, owner: 'w1', attempt: 1, atMs: T, error: { code: 'E_CRON_MISSED', message: 'missed', stack: 'missed' } }]);
  await store.close();
  const before = snapshot(db);

  const [row] = await cliJson<Record<string, unknown>[]>(['cron', '--db', db]);
  expect(row).toEqual({
    name: 'report', cron: '0 9 * * 1-5', tz: 'Europe/Paris', args: ['daily'], missed: 'skip', status: 'defined',
    updated: '2030-01-01T09:00:00.000Z', synced: '2030-01-01T09:00:00.000Z',
    next: { id: 2, due: '2030-01-02T09:00:00.000Z', state: 'scheduled', attempts: 0, started: null, finished: null, errorCode: null },
    last: { id: 1, due: '2030-01-01T09:00:00.000Z', state: 'failed', attempts: 1, started: '2030-01-01T09:00:00.000Z', finished: '2030-01-01T09:00:00.000Z', errorCode: 'E_CRON_MISSED' },
    servedBy: [],
  });
  const text = await cli(['cron', '--db', db]);
  expect(text.code).toBe(0);
  expect(text.stdout.split('\n')[0]).toMatch(/^NAME\s+CRON\s+TZ\s+MISSED\s+NEXT\s+LAST RUN\s+OUTCOME\s+SERVED BY$/);
  expect(text.stdout).toMatch(/report\s+0 9 \* \* 1-5\s+Europe\/Paris\s+skip\s+2030-01-02T09:00:00.000Z #2\s+2030-01-01T09:00:00.000Z #1\s+failed \(E_CRON_MISSED\)\s+none/);
  expect(snapshot(db)).toBe(before); // read-only
});

it('says so when the database has no periodic task, and fails like list on a missing database', async () => {
  const { db, dir, remove } = tempDir();
  cleanups.push(remove);
  await new SqliteStore({ path: db }).close();
  const empty = await cli(['cron', '--db', db]);
  expect(empty).toMatchObject({ code: 0, stdout: 'No periodic tasks: no daemon with a task({ cron }) has started on this database.\n' });
  expect(await cliJson(['cron', '--db', db])).toEqual([]);
  const missing = await cli(['cron', '--db', `${dir}/nope.db`]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^delayd: E_DB_MISSING: /);
});
