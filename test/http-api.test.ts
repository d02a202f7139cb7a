/**
 * The JSON API through real HTTP requests to a daemon in a child process: every endpoint, every
 * error status, the CLI's JSON shapes, and that refused requests write nothing.
 */
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { cli, cliJson, type Daemon, tempDir } from './fixtures/cli.js';
import { httpDaemon, parseExposition, TOKEN, tokenFile } from './http-lib.js';

const FLAKY = fileURLToPath(new URL('./fixtures/http-handlers.js', import.meta.url));
let tmp: ReturnType<typeof tempDir>;
let daemon: Daemon;
let url: string;

beforeAll(async () => {
  tmp = tempDir();
  ({ daemon, url } = await httpDaemon(tmp.db, ['--handlers', FLAKY, '--busy-timeout', '0.3', '--http', '127.0.0.1:0', '--http-token-file', tokenFile(tmp.dir)]));
}, 30_000);

afterAll(async () => {
  await daemon?.stop();
  tmp?.remove();
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${TOKEN}`, ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${url}/api/v1${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
}

/** Every task row, read straight from the file: what a refused request must leave as it was. */
function taskRows(): string {
  const db = new Database(tmp.db, { readonly: true });
  try {
    return JSON.stringify(db.prepare('SELECT * FROM tasks ORDER BY id').all());
  } finally {
    db.close();
  }
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const expectError = (a: Answer, status: number, code: string) => {
  expect({ status: a.status, code: a.body?.error?.code }).toEqual({ status, code });
  expect(typeof a.body.error.message).toBe('string');
};

describe('the API of a daemon started with --http', () => {
  it('enqueues one task: 201 with what `delayd enqueue --json` prints; a repeated key answers 200, created false', async () => {
    const a = await api('POST', '/tasks', { name: 'slow', args: [1], countdown: 3600, key: 'k-1', retries: 2, backoff: 5, timeout: 60 });
    expect(a.status).toBe(201);
    const printed = await cliJson<Record<string, unknown>>(['enqueue', 'slow', '--db', tmp.db, '--countdown', '3600']);
    expect(Object.keys(a.body).sort()).toEqual(Object.keys(printed).sort());
    expect(a.body).toMatchObject({ name: 'slow', created: true });
    expect(Date.parse(a.body.due) - Date.now()).toBeGreaterThan(3590_000);
    const again = await api('POST', '/tasks', { name: 'slow', args: [2], countdown: 10, key: 'k-1' });
    expect(again).toMatchObject({ status: 200, body: { id: a.body.id, created: false } });
    // GET answers exactly what `delayd show --json` prints.
    const got = await api('GET', `/tasks/${a.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(await cliJson(['show', String(a.body.id), '--db', tmp.db]));
    expect(got.body).toMatchObject({ state: 'scheduled', args: [1], retries: 2, backoffMs: 5000, timeoutMs: 60_000, key: 'k-1' });
  });

  it('runs a task enqueued due now, at once', async () => {
    const a = await api('POST', '/tasks', { name: 'fast', args: ['now'] });
    expect(a.status).toBe(201);
    const done = await until('fast to succeed', () => api('GET', `/tasks/${a.body.id}`), (r) => r.body.state === 'succeeded');
    expect(done.body.result).toBe('now');
    expect(Date.parse(done.body.started) - Date.parse(done.body.due)).toBeLessThan(500);
  });

  it('refuses bad input with 400 and the library\'s code and message, and writes nothing', async () => {
    const before = taskRows();
    const cases: [unknown, string][] = [
      [{ args: [1] }, 'E_BAD_NAME'],
      [{ name: 'fast', countdown: -1 }, 'E_BAD_COUNTDOWN'],
      [{ name: 'fast', eta: 'tomorrow' }, 'E_BAD_ETA'],
      [{ name: 'fast', countdown: 1, eta: '2030-01-01T00:00:00Z' }, 'E_BAD_OPTION'],
      [{ name: 'fast', colour: 'red' }, 'E_UNKNOWN_OPTION'],
      [{ name: 'fast', args: 'not an array' }, 'E_BAD_ARGS'],
      [{ name: 'fast', args: [12345678901234567890] }, 'E_BAD_ARGS'],
      ['{"name": "fast", ', 'E_BAD_ARGS'],
      ['[1, 2]', 'E_BAD_ARGS'],
      [{ name: 'fast', retries: 1.5 }, 'E_BAD_OPTION'],
    ];
    for (const [body, code] of cases) {
      const text = typeof body === 'string' ? body : JSON.stringify(body).replace('12345678901234567000', '12345678901234567890');
      expectError(await api('POST', '/tasks', text), 400, code);
    }
    const message = (await api('POST', '/tasks', { name: 'fast', countdown: -1 })).body.error.message;
    expect(message).toBe('Expected `countdown` to be a finite number of seconds >= 0, got `-1` (number)');
    expect(taskRows()).toBe(before);
  });

  it('enqueues in bulk, all or none', async () => {
    const before = taskRows();
    const bad = await api('POST', '/tasks/bulk', [{ name: 'fast', args: [1] }, { name: 'fast', countdown: 5 }, { name: 'fast', countdown: 'soon' }]);
    expectError(bad, 400, 'E_BAD_COUNTDOWN');
    expect(bad.body.error.message).toMatch(/^item 2: .*nothing was written$/);
    expectError(await api('POST', '/tasks/bulk', []), 400, 'E_BAD_ARGS');
    expectError(await api('POST', '/tasks/bulk', { name: 'fast' }), 400, 'E_BAD_ARGS');
    expect(taskRows()).toBe(before);
    const ok = await api('POST', '/tasks/bulk', [{ name: 'slow', args: [1], countdown: 600 }, { name: 'slow', eta: '2099-01-01T00:00:00Z' }, { name: 'fast', countdown: 600 }]);
    expect(ok.status).toBe(201);
    expect(ok.body.map((r: { name: string; created: boolean }) => [r.name, r.created])).toEqual([['slow', true], ['slow', true], ['fast', true]]);
    expect(ok.body[1].due).toBe('2099-01-01T00:00:00.000Z');
  });

  it('lists by state and name, newest first, a page at a time', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api('POST', '/tasks', { name: 'slow', args: [i], countdown: 900 })).body.id);
    const first = await api('GET', '/tasks?state=scheduled&name=slow&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.tasks.map((t: { id: number }) => t.id)).toEqual([ids[4], ids[3]]);
    expect(first.body.tasks[0]).toEqual((await cliJson<unknown[]>(['list', '--db', tmp.db, '--name', 'slow', '--limit', '1']))[0]);
    const second = await api('GET', `/tasks?state=scheduled&name=slow&limit=2&before=${first.body.nextBefore}`);
    expect(second.body.tasks.map((t: { id: number }) => t.id)).toEqual([ids[2], ids[1]]);
    expectError(await api('GET', '/tasks?state=lost'), 400, 'E_BAD_OPTION');
    expectError(await api('GET', '/tasks?limit=0'), 400, 'E_BAD_OPTION');
    expectError(await api('GET', '/tasks?before=x'), 400, 'E_BAD_OPTION');
    expectError(await api('GET', '/tasks?sort=asc'), 400, 'E_UNKNOWN_OPTION');
  });

  it('cancels and reschedules a scheduled task; 409 in another state, 404 for an unknown id', async () => {
    const { id } = (await api('POST', '/tasks', { name: 'slow', args: [9], countdown: 1200 })).body;
    const moved = await api('POST', `/tasks/${id}/reschedule`, { eta: '2098-06-01T12:00:00Z' });
    expect(moved).toMatchObject({ status: 200, body: { id, state: 'scheduled', due: '2098-06-01T12:00:00.000Z' } });
    const before = taskRows();
    expectError(await api('POST', `/tasks/${id}/reschedule`, { countdown: 5, eta: '2098-06-01T12:00:00Z' }), 400, 'E_BAD_OPTION');
    expectError(await api('POST', `/tasks/${id}/reschedule`, { key: 'x' }), 400, 'E_UNKNOWN_OPTION');
    expectError(await api('POST', `/tasks/${id}/reschedule`, {}), 400, 'E_BAD_OPTION');
    expect(taskRows()).toBe(before);
    const cancelled = await api('POST', `/tasks/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id, state: 'cancelled' } });
    expectError(await api('POST', `/tasks/${id}/cancel`), 409, 'E_BAD_STATE');
    expectError(await api('POST', `/tasks/${id}/reschedule`, { countdown: 5 }), 409, 'E_BAD_STATE');
    expectError(await api('POST', `/tasks/${id}/retry`), 409, 'E_BAD_STATE');
    expectError(await api('GET', '/tasks/999999'), 404, 'E_NOT_FOUND');
    expectError(await api('POST', '/tasks/999999/cancel'), 404, 'E_NOT_FOUND');
  });

  it('retries a failed task, which then runs', async () => {
    const { id } = (await api('POST', '/tasks', { name: 'flaky', args: ['x'] })).body;
    await until('flaky to fail', () => api('GET', `/tasks/${id}`), (r) => r.body.state === 'failed');
    const retried = await api('POST', `/tasks/${id}/retry`);
    expect(retried).toMatchObject({ status: 200, body: { id, state: 'scheduled' } });
    const done = await until('flaky to succeed', () => api('GET', `/tasks/${id}`), (r) => r.body.state === 'succeeded');
    expect(done.body).toMatchObject({ attempts: 2, result: 'x' });
  });

  it('answers stats and a batch in the CLI\'s shapes', async () => {
    const stats = await api('GET', '/stats');
    expect(stats.status).toBe(200);
    const printed = await cliJson<Record<string, unknown>>(['stats', '--db', tmp.db]);
    expect(Object.keys(stats.body).sort()).toEqual(Object.keys(printed).sort());
    expect(stats.body.daemons).toMatchObject([{ pid: daemon.child.pid, tasks: expect.arrayContaining(['fast', 'flaky']) }]);
    const store = new SqliteStore({ path: tmp.db, busyTimeoutMs: 2000 });
    const batch = await store.insertBatch({ name: 'fast', key: null, createdMs: Date.now(), dueMs: Date.now(), reduce: null }, [1, 2, 3].map((i) => ({
      name: 'fast', args: `[${i}]`, dueMs: Date.now(), createdMs: Date.now(), key: null, retries: null, backoffMs: null, timeoutMs: null,
    })));
    await store.close();
    const done = await until('the batch', () => api('GET', `/batches/${batch.id}`), (r) => r.body.complete === true);
    expect(done.body).toEqual(await cliJson(['batch', String(batch.id), '--db', tmp.db]));
    expect(done.body).toMatchObject({ total: 3, succeeded: 3, failed: 0 });
    expect((await api('GET', '/batches?limit=5')).body[0]).toMatchObject({ id: batch.id, total: 3, complete: true });
    expectError(await api('GET', `/batches/${batch.id + 100}`), 404, 'E_NOT_FOUND');
  });

  it('answers 404 for an unknown route, 405 for a wrong method, 413 for a body too large (writing nothing)', async () => {
    expectError(await api('GET', '/nothing'), 404, 'E_NOT_FOUND');
    const wrong = await api('DELETE', '/tasks/1');
    expectError(wrong, 405, 'E_USAGE');
    expect(wrong.headers.get('allow')).toBe('GET');
    const before = taskRows();
    const big = await api('POST', '/tasks', { name: 'fast', args: ['x'.repeat(1100_000)] });
    expectError(big, 413, 'E_BODY_TOO_LARGE');
    const bulk = await api('POST', '/tasks/bulk', Array.from({ length: 10_001 }, () => ({ name: 'fast' })));
    expectError(bulk, 413, 'E_BODY_TOO_LARGE');
    expect(taskRows()).toBe(before);
  });

  it('answers 503 while the store is unavailable (locked), and writes again once it is back', async () => {
    const lock = new Database(tmp.db);
    lock.exec('BEGIN EXCLUSIVE');
    try {
      const a = await api('POST', '/tasks', { name: 'fast' });
      expectError(a, 503, 'E_DB_LOCKED');
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect((await api('POST', '/tasks', { name: 'fast', countdown: 1000 })).status).toBe(201);
  });

  it('serves health, readiness and valid metrics', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', store: 'ok' });
    const e = parseExposition(await (await fetch(`${url}/metrics`)).text());
    expect(e.value('delayd_tasks_finished_total', { name: 'flaky', outcome: 'failed' })).toBe(1);
    expect(e.value('delayd_tasks_finished_total', { name: 'flaky', outcome: 'succeeded' })).toBe(1);
    expect(e.value('delayd_tasks', { state: 'cancelled' })).toBe(1);
    expect(e.value('delayd_task_lateness_seconds_count', { name: 'fast' })).toBeGreaterThanOrEqual(4);
  });

  it('stops cleanly on SIGTERM with the server open, and the port closes', async () => {
    const keepAlive = fetch(`${url}/healthz`); // a connection kept alive must not hold the exit
    await keepAlive;
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect((await cli(['stats', '--db', tmp.db, '--json'])).code).toBe(0);
  });
});
