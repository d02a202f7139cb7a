/** `delayd daemon --max-cut-offs N`: argv to DaemonOptions.maxCutOffs, and a bad value refused before anything starts. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { toDaemonOptions } from '../src/cli/commands/daemon.js';
import type { Io } from '../src/cli/context.js';
import { runCli } from '../src/cli/main.js';
import { DelaydError } from '../src/errors.js';
import { cli, HANDLERS } from './fixtures/cli.js';

const context = { env: {}, cwd: '/srv/app', stdoutIsTTY: false };

function errorOf(fn: () => unknown): DelaydError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DelaydError) return error;
    throw error;
  }
  throw new Error('expected a DelaydError, got none');
}

function captureIo(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) } as unknown as Io['stderr'],
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
    clock: systemClock,
  };
  return { io, out: () => out, err: () => err };
}

describe('--max-cut-offs: argv mapping', () => {
  it('maps the flag to maxCutOffs, its bounds 0 and 1000 included', () => {
    expect(toDaemonOptions({ handlers: ['h.js'], maxCutOffs: '5' }, context).maxCutOffs).toBe(5);
    expect(toDaemonOptions({ handlers: ['h.js'], maxCutOffs: '0' }, context).maxCutOffs).toBe(0);
    expect(toDaemonOptions({ handlers: ['h.js'], maxCutOffs: '1000' }, context).maxCutOffs).toBe(1000);
  });
  it('leaves it unset without the flag, so the scheduler default (3) applies', () => {
    expect(toDaemonOptions({ handlers: ['h.js'] }, context).maxCutOffs).toBeUndefined();
  });
  it.each(['-1', '1001', '2.5', 'many', '0x3', ''])('refuses %j with E_BAD_OPTION naming the flag', (raw) => {
    const error = errorOf(() => toDaemonOptions({ handlers: ['h.js'], maxCutOffs: raw }, context));
    expect(error.code).toBe('E_BAD_OPTION');
    expect(error.message).toMatch(/^Expected `--max-cut-offs` to be (an integer from 0 to 1000|a decimal number|an integer), got /);
  });
});

describe('delayd daemon --max-cut-offs (in process)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a bad value: one coded line on stderr, exit status 1, no database created, no daemon started', async () => {
    dir = mkdtempSync(join(tmpdir(), 'delayd-cutoffs-'));
    const db = join(dir, 'd.db');
    const { io, out, err } = captureIo();
    const exits: number[] = [];
    const code = await runCli(['daemon', '--handlers', './h.js', '--max-cut-offs', '1001', '--db', db], { io, exit: (c) => exits.push(c) });
    expect(code).toBe(1);
    expect(exits).toEqual([1]);
    expect(err()).toBe('delayd: E_BAD_OPTION: Expected `--max-cut-offs` to be an integer from 0 to 1000, got `"1001"` (string)\n');
    expect(out()).toBe('');
    expect(existsSync(db)).toBe(false);
  });

  it('the built CLI: exit status 1 and one coded line; the flag and its default in `daemon --help`', async () => {
    dir = mkdtempSync(join(tmpdir(), 'delayd-cutoffs-'));
    const db = join(dir, 'd.db');
    const bad = await cli(['daemon', '--handlers', HANDLERS, '--max-cut-offs', '-1', '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('delayd: E_BAD_OPTION: Expected `--max-cut-offs` to be an integer from 0 to 1000, got `"-1"` (string)\n');
    expect(existsSync(db)).toBe(false);
    const help = await cli(['daemon', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--max-cut-offs\s+Attempts cut off by the death of their daemon/);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/fails with E_CUT_OFF, unless its handler sets maxCutOffs; 0 to 1000 \[default: 3\]/);
  });
});
