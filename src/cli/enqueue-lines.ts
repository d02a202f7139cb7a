/**
 * `enqueue --file`: JSON Lines in, tasks out, in large transactions. Every line of a batch is
 * parsed and validated before the batch is written in one store.insert (one transaction), so
 * a bad line leaves nothing of its batch behind; the batches before it stay committed, and
 * the error says which lines those were.
 *
 * A line is {"name": "send", "args": [...], "countdown": 5} with any of the delay options
 * (countdown | eta, key, retries, backoff, timeout); args default to [].
 */
import { DEFAULTS } from '../config.js';
import { DelaydError, describe } from '../errors.js';
import type { Inserted, NewTask } from '../store/types.js';
import { buildNewTask, checkName } from '../validate.js';

export const BATCH_SIZE = 10_000;

export interface LinesResult {
  /** Lines read, blank ones included. */
  lines: number;
  /** New tasks written. */
  enqueued: number;
  /** Lines whose key matched an unfinished task, which was kept instead. */
  deduplicated: number;
  batches: number;
  names: Set<string>;
}

export interface EnqueueLinesOptions {
  lines: AsyncIterable<string>;
  insert: (rows: readonly NewTask[]) => Inserted[];
  now: () => number;
  batchSize?: number;
  /** After each line is read, with the bytes read so far; and after each batch. */
  onProgress?: (bytes: number, result: LinesResult) => void;
}

export async function enqueueLines(options: EnqueueLinesOptions): Promise<LinesResult> {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const result: LinesResult = { lines: 0, enqueued: 0, deduplicated: 0, batches: 0, names: new Set() };
  let batch: NewTask[] = [];
  let committedThrough = 0;
  let bytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    for (const row of options.insert(batch)) {
      if (row.created) result.enqueued++;
      else result.deduplicated++;
    }
    for (const row of batch) result.names.add(row.name);
    result.batches++;
    committedThrough = result.lines;
    batch = [];
  };
  for await (const line of options.lines) {
    result.lines++;
    bytes += Buffer.byteLength(line) + 1;
    if (line.trim() === '') continue;
    try {
      batch.push(parseLine(line, options.now()));
    } catch (error) {
      throw lineError(error, result.lines, committedThrough, result);
    }
    if (batch.length >= batchSize) flush();
    options.onProgress?.(bytes, result);
  }
  flush();
  options.onProgress?.(bytes, result);
  return result;
}

/** One JSON line to a row, with the same checks as delay(). */
export function parseLine(line: string, nowMs: number): NewTask {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1], "countdown": 5}, got invalid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1]}, got ${describe(value)}`);
  }
  const { name, args = [], ...when } = value as Record<string, unknown>;
  return buildNewTask({ name: checkName(name), args, when, defaults: {}, nowMs, maxArgsBytes: DEFAULTS.maxArgsBytes });
}

function lineError(error: unknown, line: number, committedThrough: number, result: LinesResult): unknown {
  if (!(error instanceof DelaydError)) return error;
  const kept = result.enqueued + result.deduplicated;
  const after = committedThrough === 0
    ? 'nothing was written'
    : `the ${kept} tasks of lines 1-${committedThrough} were committed; nothing from line ${committedThrough + 1} on was written`;
  return new DelaydError(error.code, `line ${line}: ${error.message}; ${after}`, { cause: error });
}
