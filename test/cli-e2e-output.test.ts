/**
 * What the CLI accepts and shows, through dist/cli.js: ISO 8601 etas and unix ms, policy left
 * to the handler unless given, the effective policy and where it came from, escaped text, live
 * daemons only in stats, `enqueue --file -` from a slow producer, and read-only views.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cli, cliJson, countsByState, startCli, tempDir, waitUntil } from './fixtures/cli.js';

let tmp: ReturnType<typeof tempDir>;
let n = 0;
const freshDb = () => join(tmp.dir, `db-${++n}.db`);

beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.remove());

async function ok(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await cli(args, env ? { env: cleanEnv(env) } : {});
  if (result.code !== 0) throw new Error(`delayd ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** A worker row as a daemon's heartbeat writes it; `pid` of this process counts as live. */
function addWorker(db: string, worker: { owner: string; pid: number; names: string[]; policies?: Record<string, unknown> }): void {
  const conn = new Database(db);
  try {
    const columns = (conn.pragma('table_info(workers)') as { name: string }[]).map((c) => c.name);
    const now = Date.now();
    const values: Record<string, unknown> = { owner: worker.owner, host: hostname(), pid: worker.pid, names: JSON.stringify(worker.names), started_ms: now, beat: 1, seen_ms: now };
    if (columns.includes('policies')) values.policies = JSON.stringify(worker.policies ?? {});
    const keys = Object.keys(values);
    conn.prepare(`INSERT INTO workers (${keys.join(', ')}) VALUES (${keys.map((k) => `@${k}`).join(', ')})`).run(values);
  } finally {
    conn.close();
  }
}

describe('eta strings on the command line', () => {
  it.each([
    ['1893456000000', {}, '2030-01-01T00:00:00.000Z'],
    ['2030-01-01', { TZ: 'America/New_York' }, '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T10:00+01:00', { TZ: 'America/New_York' }, '2030-01-01T09:00:00.000Z'],
    ['2030-01-01T09:00:00.5Z', {}, '2030-01-01T09:00:00.500Z'],
  ])('%s (%j) is due at %s', async (eta, env, due) => {
    const out = await ok(['enqueue', 'fast', '--eta', eta, '--json', '--db', freshDb()], env);
    expect(JSON.parse(out)).toMatchObject({ due });
  });
});

describe('policy', () => {
  it('a task enqueued from the CLI carries only the overrides given; show says where each value comes from', async () => {
    const db = freshDb();
    await ok(['enqueue', 'val', '--db', db]);
    await ok(['enqueue', 'val', '--retries', '1', '--timeout', '2.5', '--db', db]);
    const [second, first] = JSON.parse(await ok(['list', '--json', '--db', db])) as Record<string, unknown>[];
    expect(first).toMatchObject({ retries: null, backoffMs: null, timeoutMs: null, lastErrorCode: null });
    expect(first!.policy).toEqual({
      retries: { value: 0, from: 'default' },
      backoffMs: { value: 1000, from: 'default' },
      timeoutMs: { value: null, from: 'default' },
      maxCutOffs: { value: 3, from: 'default' },
    });
    expect(second).toMatchObject({ retries: 1, backoffMs: null, timeoutMs: 2500 });
    const text = await ok(['show', '1', '--db', db]);
    expect(text).toMatch(/^retries +0 \(default\)$/m);
    expect(text).toMatch(/^policy +no live daemon serves "val": a value marked default may be what its handler declares otherwise$/m);
    expect(await ok(['show', '2', '--db', db])).toMatch(/^timeout +2.5 s \(given at enqueue\)$/m);
  });

  it("with a live daemon serving the name, its handler's policy fills what the task does not give", async () => {
    const db = freshDb();
    await ok(['enqueue', 'val', '--backoff', '5', '--db', db]);
    addWorker(db, { owner: 'live', pid: process.pid, names: ['val'], policies: { val: { retries: 3, timeoutMs: 2000 } } });
    const text = await ok(['show', '1', '--db', db]);
    expect(text).toMatch(/^retries +3 \(from the handler\)$/m);
    expect(text).toMatch(/^backoff +5 s \(given at enqueue\)$/m);
    expect(text).toMatch(/^timeout +2 s \(from the handler\)$/m);
    expect(text).toMatch(/^max cut-offs +3 \(default\)$/m);
    expect(text).not.toMatch(/^policy /m);
    const json = JSON.parse(await ok(['show', '1', '--json', '--db', db])) as { policy: Record<string, unknown>; retries: unknown };
    expect(json.retries).toBeNull();
    expect(json.policy.retries).toEqual({ value: 3, from: 'handler' });
  });
});

describe('stats: live daemons only, and what no live daemon serves', () => {
  it('leaves out a dead daemon and counts its names as unserved', async () => {
    const db = freshDb();
    for (const name of ['rec', 'rec', 'other']) await ok(['enqueue', name, '--countdown', '60', '--db', db]);
    addWorker(db, { owner: 'dead', pid: 2 ** 22 + 12345, names: ['rec'] });
    addWorker(db, { owner: 'live', pid: process.pid, names: ['other'] });
    const text = await ok(['stats', '--db', db]);
    expect(text).toMatch(new RegExp(`^daemons +${hostname()}:${process.pid} serves other$`, 'm'));
    expect(text).not.toContain(String(2 ** 22 + 12345));
    expect(text).toMatch(/^unserved +rec: 2 \(scheduled, waiting for a live daemon with the handler\)$/m);
    const json = JSON.parse(await ok(['stats', '--json', '--db', db])) as { daemons: { owner: string }[]; unserved: Record<string, number> };
    expect(json.daemons.map((d) => d.owner)).toEqual(['live']);
    expect(json.unserved).toEqual({ rec: 2 });
  });
});

describe('text output escapes control characters', () => {
  it('a key with terminal escapes is shown escaped by show', async () => {
    const db = freshDb();
    await ok(['enqueue', 'fast', '--key', 'k\u001b]0;owned\u0007\u001b[2J', '--db', db]);
    const text = await ok(['show', '1', '--db', db]);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('k\\x1b]0;owned\\x07\\x1b[2J');
    const json = JSON.parse(await ok(['show', '1', '--json', '--db', db])) as { key: string };
    expect(json.key).toBe('k\u001b]0;owned\u0007\u001b[2J');
  });
});

describe('enqueue --file', () => {
  it('a byte-order mark at the start of the file is dropped', async () => {
    const db = freshDb();
    const file = join(tmp.dir, 'bom.jsonl');
    writeFileSync(file, '\ufeff{"name": "rec"}\n{"name": "rec"}\n');
    expect(await ok(['enqueue', '--file', file, '--db', db])).toMatch(/^enqueued 2 tasks from 2 lines/);
  });

  it('writes the lines of a slow producer after a short quiet time, not at the end of input', async () => {
    const db = freshDb();
    const running = startCli(['enqueue', '--file', '-', '--db', db], { timeoutMs: 20_000 });
    running.child.stdin!.write('{"name": "rec"}\n{"name": "rec"}\n{"name": "rec"}\n');
    const scheduled = () => {
      try {
        return countsByState(db).scheduled ?? 0;
      } catch {
        return 0; // not created yet
      }
    };
    await waitUntil('the 3 lines to be committed while the producer still writes', () => scheduled() === 3);
    expect(running.child.exitCode).toBeNull();
    running.child.stdin!.end('{"name": "rec"}\n');
    const result = await running.result;
    expect(result).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/delayd: E_/) });
    expect(result.stdout).toMatch(/^enqueued 4 tasks from 4 lines in 2 transactions/);
    expect(scheduled()).toBe(4);
  });

  it('a database failure after the first commit says which lines were committed', async () => {
    const db = freshDb();
    const running = startCli(['enqueue', '--file', '-', '--db', db, '--busy-timeout', '0.1'], { timeoutMs: 20_000 });
    running.child.stdin!.write('{"name": "rec"}\n{"name": "rec"}\n');
    await waitUntil('the first 2 lines to be committed', () => {
      try {
        return countsByState(db).scheduled === 2;
      } catch {
        return false;
      }
    });
    const holder = new Database(db);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      running.child.stdin!.end('{"name": "rec"}\n');
      const result = await running.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^delayd: E_DB_LOCKED: .*locked by another process.*; lines 1-2 were committed \(2 tasks\); nothing from line 3 on was written\n$/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(countsByState(db)).toEqual({ scheduled: 2 });
  });
});

describe('read commands open the database read-only (red team 13)', () => {
  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot)('stats, list, show and batch work for a user who may only read the file', async () => {
    const dir = join(tmp.dir, 'ro');
    const db = join(dir, 'ro.db');
    await cli(['stats', '--db', db]); // creates nothing: it must exist
    await import('node:fs').then((fs) => fs.mkdirSync(dir));
    await ok(['enqueue', 'fast', '--db', db]);
    await ok(['stats', '--db', db]);
    // Everything in the main file, then nobody (65534) may read but not write the file or the folder.
    const conn = new Database(db);
    conn.pragma('wal_checkpoint(TRUNCATE)');
    conn.close();
    chmodSync(tmp.dir, 0o755);
    chmodSync(db, 0o644);
    chmodSync(dir, 0o755);
    const before = readFileSync(db);
    for (const args of [['stats'], ['list'], ['show', '1'], ['list', '--json']]) {
      const result = await cli([...args, '--db', db], { uid: 65534 });
      expect(result.stderr, args.join(' ')).toBe('');
      expect(result.code).toBe(0);
    }
    const batch = await cli(['batch', '1', '--db', db], { uid: 65534 });
    expect(batch.stderr).toMatch(/^delayd: E_NOT_FOUND: No batch with id 1\n$/);
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(await cliJson<{ scheduled: number }>(['stats', '--db', db])).toMatchObject({ scheduled: 1 });
  });
});
