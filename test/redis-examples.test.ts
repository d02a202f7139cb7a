/**
 * examples/redis/ end to end: two daemons on one Redis, each serving its own handler module
 * (emails.js, reports.js), and the producer in a third process. Every task runs once, on the
 * daemon that has its handler, and ends succeeded.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, Daemon } from './fixtures/cli.js';
import { scenarios } from './helpers.js';
import { killedAtEnd, until } from './procs/issue10.js';
import { startRedis, stopAllRedis } from './redis/servers.js';
import { tasks } from './redis-failures/lib.js';

const run = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../examples/redis/${name}`, import.meta.url));
const { defer } = scenarios();
const started = killedAtEnd(defer);
afterAll(stopAllRedis);

describe('examples/redis', () => {
  it('two daemons with different handler modules and a producer process share one Redis', async () => {
    const redis = await startRedis({ appendonly: true });
    const daemon = (module: string) => started(new Daemon(redis.url, ['daemon', '--db', redis.url, '--handlers', example(module), '--log-level', 'warn'], CLI));
    const emails = daemon('emails.js');
    const reports = daemon('reports.js');
    const { stdout } = await run(process.execPath, [example('producer.js'), redis.url], { env: cleanEnv(), timeout: 20_000 });
    const enqueued = stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; name: string });
    expect(enqueued.map((t) => t.name)).toEqual(['send_email', 'send_email', 'send_email', 'build_report', 'build_report']);
    const ranOn = (d: Daemon, id: number) => d.other.filter((l) => l.includes(`task ${id}:`)).length;
    await until('every task to run', () => enqueued.every((t) => ranOn(emails, t.id) + ranOn(reports, t.id) === 1), 20_000, () => ({ emails: emails.other, reports: reports.other, stderr: emails.stderr + reports.stderr }));
    for (const t of enqueued) {
      expect(ranOn(t.name === 'send_email' ? emails : reports, t.id), `${t.name} ${t.id}`).toBe(1);
    }
    await until('every outcome to be recorded', async () => (await tasks(redis.url)).every((r) => r.state === 'succeeded'), 10_000);
    expect((await tasks(redis.url)).map((r) => r.id).sort()).toEqual(enqueued.map((t) => t.id).sort());
    await Promise.all([emails.stop(), reports.stop()]);
  }, 60_000);
});
