/**
 * What every command shares: the outside world it may touch (Io, handed in so that tests can
 * run a command with their own streams, environment and clock), its context, and one place
 * for yargs' typing.
 */
import type { Argv, CommandModule } from 'yargs';
import { systemClock, type Clock } from '../clock.js';

export interface CommandContext {
  io: Io;
  /**
   * Runs a command's body. A thrown error becomes one `delayd: <message>` line on stderr and
   * exit status 1; resolves with the exit status so far.
   */
  run(body: () => void | Promise<void>): Promise<number>;
  /** Ends the process (the daemon's way out; other commands just return). */
  exit(code: number): void;
}

export interface CommandSpec<A> {
  command: string;
  describe: string;
  builder: (yargs: Argv) => Argv;
  handler: (argv: A) => Promise<void>;
}

/** yargs infers argv types from builder chains; we type argv once, in each command's file (its XxxArgv), instead. */
export function defineCommand<A>(spec: CommandSpec<A>): CommandModule {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder,
    handler: (argv) => spec.handler(argv as unknown as A),
  };
}

export const JSON_OPTION = {
  type: 'boolean',
  describe: 'Print one JSON document on stdout instead of a table',
} as const;

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Io {
  stdout: Output;
  /** A real stream in production: the progress bar draws on it. */
  stderr: Output & NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  clock: Clock;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    clock: systemClock,
  };
}

/** Writes `value` as one JSON document on stdout. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function warn(io: Io, message: string): void {
  io.stderr.write(`delayd: warning: ${message}\n`);
}
