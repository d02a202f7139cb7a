/** `npm start` (examples/start.js): the origin example end to end, as a new user sees it. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countsByState, Daemon, tempDir } from './fixtures/cli.js';
import { scenarios } from './helpers.js';

const START = fileURLToPath(new URL('../examples/start.js', import.meta.url));
const { defer } = scenarios();

describe('npm start', () => {
  it('enqueues ten test tasks due in 1 to 10 s and the daemon runs every one', async () => {
    const tmp = tempDir();
    defer(tmp.remove);
    const run = new Daemon(tmp.db, [], START);
    defer(() => run.child.kill('SIGKILL'));
    await run.waitFor('ten tasks received', (d) => d.count('received') === 10, 10_000);
    await run.waitFor('ten tasks succeeded', (d) => d.count('succeeded') === 10, 20_000);
    for (const event of run.events.filter((e) => e.msg === 'accepted')) expect(event.lateMs).toBeGreaterThanOrEqual(0);
    expect(run.other.filter((line) => line.startsWith('test: ')).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `test: ${i}`).sort(),
    );
    expect(await run.stop()).toEqual({ code: 0, signal: null });
    expect(countsByState(tmp.db)).toMatchObject({ succeeded: 10 });
  }, 40_000);
});
