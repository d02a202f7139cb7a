/** The batch examples run to completion and check themselves (exit status 0 when they agree). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

describe('examples', () => {
  it('bitmap-outcomes.js (seed 000): the bitmaps agree with the handlers’ own record', async () => {
    const { stdout } = await run(process.execPath, [example('bitmap-outcomes.js')]);
    expect(stdout).toMatch(/n success = \d+, n failed = \d+, pending = 0, total = 1024/);
    expect(stdout).toContain('the bitmaps agree with the handlers’ own record');
  }, 30_000);

  it('log-count.js (seed 001): the map/reduce total agrees with a single-process count', async () => {
    const { stdout } = await run(process.execPath, [example('log-count.js'), '8', '5000']);
    expect(stdout).toContain('batch 1: 8 of 8 files counted, 0 failed');
    expect(stdout).toContain('the totals agree');
  }, 30_000);
});
