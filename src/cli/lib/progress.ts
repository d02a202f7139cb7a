/**
 * The progress bar of `enqueue --file`, drawn with cli-progress on stderr only when stderr is
 * a terminal; otherwise (pipes, CI, tests) it is silent and stdout stays clean for --json.
 */
import cliProgress from 'cli-progress';
import type { Io } from '../context.js';

export interface Progress {
  /** `done` is in the same unit as the total given at the start (bytes of input). */
  update(done: number, tasks: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

export function startProgress(io: Io, totalBytes: number | undefined): Progress {
  if (!io.stderr.isTTY || totalBytes === undefined || totalBytes === 0) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr,
      format: 'enqueue |{bar}| {percentage}% | {tasks} tasks | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(totalBytes, 0, { tasks: 0 });
  return {
    update: (done, tasks) => bar.update(Math.min(done, totalBytes), { tasks }),
    stop: () => bar.stop(),
  };
}
