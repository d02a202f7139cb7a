/**
 * Issue 10, "what must hold", through the built CLI and daemons in child processes:
 * (a) two daemons with different handler modules on one database: every task runs on the
 *     daemon with its handler, none fails;
 * (b) seed 003's validation: values 0..n enqueued with `delayd enqueue --file`, the retry
 *     policy only in the handler's task() options, every other value failing its first
 *     attempt, the daemon killed -9 mid-run and another started: every value comes out.
 */
import { describe, expect, it } from 'vitest';
import { readExecutions } from './procs/harness.js';
import { daemon, enqueueLines, rows, runsLog, until, killedAtEnd } from './procs/issue10.js';
import { tempDir } from './fixtures/cli.js';
import { scenarios } from './helpers.js';
import type { Daemon } from './fixtures/cli.js';

const { defer } = scenarios();

const started = killedAtEnd(defer);

describe('two daemons serving different names on one database', () => {
  it('runs every task on the daemon that has its handler; none fails', async () => {
    const t = tempDir();
    defer(t.remove);
    const a = started(daemon(t.db, 'ta', ['--heartbeat', '0.5']));
    await a.waitFor('daemon a to start', (d) => d.count('scheduler started') > 0);
    const b = started(daemon(t.db, 'tb', ['--heartbeat', '0.5']));
    await b.waitFor('daemon b to start', (d) => d.count('scheduler started') > 0);
    const lines = Array.from({ length: 100 }, (_, n) => [{ name: 'ta', args: [n] }, { name: 'tb', args: [n] }]).flat();
    await enqueueLines(t.db, lines);
    const done = async () => (await rows(t.db)).filter((r) => r.state === 'succeeded').length === 200;
    await until('200 tasks to succeed', done, 30_000, async () => (await rows(t.db)).filter((r) => r.state !== 'succeeded').slice(0, 3));
    const all = await rows(t.db);
    expect(all.filter((r) => r.state === 'failed')).toEqual([]);
    const runs = readExecutions(runsLog(t.db));
    expect(runs.size).toBe(200);
    const pidOf = { ta: a.child.pid, tb: b.child.pid } as Record<string, number | undefined>;
    for (const row of all) {
      const executions = runs.get(row.id) ?? [];
      expect(executions.map((e) => e.pid), `task ${row.id} (${row.name})`).toEqual([pidOf[row.name]]);
      expect(row.attempts).toBe(1);
    }
    await Promise.all([a.stop(), b.stop()]);
  }, 60_000);
});

describe("seed 003's validation, with the policy only in the handler", () => {
  it('every value 0..n comes out, under kill -9 of the daemon mid-run', async () => {
    const t = tempDir();
    defer(t.remove);
    const COUNT = 200;
    // As a producer that knows nothing of the handler: no retries, no backoff on any line.
    await enqueueLines(t.db, Array.from({ length: COUNT }, (_, value) => ({ name: 'val', args: [value] })));
    const first = started(daemon(t.db, 'val', ['--concurrency', '4', '--log-level', 'warn']));
    // Mid-run: some values are done, some failed their first attempt and wait for the retry.
    await until('a quarter to succeed', async () => (await rows(t.db)).filter((r) => r.state === 'succeeded').length >= COUNT / 4, 30_000);
    first.signal('SIGKILL');
    await first.exited;
    const midway = await rows(t.db);
    expect(midway.filter((r) => r.state === 'succeeded').length).toBeLessThan(COUNT);
    const second = started(daemon(t.db, 'val', ['--concurrency', '4', '--log-level', 'warn']));
    await until('every value to succeed', async () => (await rows(t.db)).filter((r) => r.state === 'succeeded').length === COUNT, 40_000, async () =>
      (await rows(t.db)).filter((r) => r.state !== 'succeeded').slice(0, 3),
    );
    const all = await rows(t.db);
    const values = all.map((r) => JSON.parse(r.result!) as number).sort((x, y) => x - y);
    expect(values).toEqual(Array.from({ length: COUNT }, (_, value) => value));
    // The odd values failed their first attempt (or had it cut off by the kill) and were
    // retried under the handler's policy (retries 3): the producer gave none.
    const odd = all.filter((r) => Number(JSON.parse(r.args)[0]) % 2 === 1);
    for (const row of odd) {
      expect(row.attempts).toBeGreaterThanOrEqual(2);
      expect(row.errors.length + row.cutOffs).toBeGreaterThanOrEqual(1);
    }
    expect(odd.filter((r) => r.errors.length === 1).length).toBeGreaterThan(COUNT / 4);
    await second.stop();
  }, 90_000);
});
