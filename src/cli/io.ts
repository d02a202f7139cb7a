/**
 * What a CLI command may touch of the outside world, handed in so that tests can run a
 * command with their own streams, environment and clock.
 */
import { systemClock, type Clock } from '../clock.js';

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
