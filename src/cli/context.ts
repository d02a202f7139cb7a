/** What every command definition shares: its context, and one place for yargs' typing. */
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../io.js';

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

/** yargs infers argv types from builder chains; we type argv once, in options.ts, instead. */
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
