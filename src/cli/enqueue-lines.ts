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
import { buildRow, checkName, rowBase, type RowBase } from '../validate.js';

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
  /** The input's lines, a read at a time (see LineReader). */
  lines: AsyncIterable<readonly string[]>;
  insert: (rows: readonly NewTask[]) => Inserted[];
  now: () => number;
  batchSize?: number;
  /** After each read's lines and after the last batch. */
  onProgress?: (result: LinesResult) => void;
}

export async function enqueueLines(options: EnqueueLinesOptions): Promise<LinesResult> {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const result: LinesResult = { lines: 0, enqueued: 0, deduplicated: 0, batches: 0, names: new Set() };
  const rows = new RowMaker();
  let batch: NewTask[] = [];
  let committedThrough = 0;
  const flush = () => {
    if (batch.length === 0) return;
    for (const row of options.insert(batch)) {
      if (row.created) result.enqueued++;
      else result.deduplicated++;
    }
    addNames(result.names, batch);
    result.batches++;
    committedThrough = result.lines;
    batch = [];
  };
  for await (const lines of options.lines) {
    for (const line of lines) {
      result.lines++;
      if (line.trim() === '') continue;
      try {
        batch.push(rows.parse(line, options.now()));
      } catch (error) {
        throw lineError(error, result.lines, committedThrough, result);
      }
      if (batch.length >= batchSize) flush();
    }
    options.onProgress?.(result);
  }
  flush();
  options.onProgress?.(result);
  return result;
}

/** One JSON line to a row, with the same checks as delay(). */
export function parseLine(line: string, nowMs: number): NewTask {
  return new RowMaker().parse(line, nowMs);
}

/** Parses lines into rows, reusing the resolved defaults while the name and the time stay the same. */
class RowMaker {
  #base: RowBase | undefined;

  parse(line: string, nowMs: number): NewTask {
    const record = parseObject(line);
    const name = checkName(record.name);
    if (this.#base?.name !== name || this.#base.nowMs !== nowMs) this.#base = rowBase(name, nowMs, DEFAULTS.maxArgsBytes);
    const args = record.args === undefined ? [] : record.args;
    // A bare countdown (the bulk case) goes as a number: no object of the other fields to check.
    if (hasOnlyCountdown(record)) return buildRow(this.#base, args, record.countdown);
    const { name: _name, args: _args, ...when } = record;
    return buildRow(this.#base, args, when);
  }
}

function parseObject(line: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1], "countdown": 5}, got invalid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1]}, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** True when the line has no field but name, args and a countdown that is absent or a number. */
function hasOnlyCountdown(record: Record<string, unknown>): boolean {
  for (const key in record) if (key !== 'name' && key !== 'args' && key !== 'countdown') return false;
  return record.countdown === undefined || typeof record.countdown === 'number';
}

/** Lines of one name tend to come together: skip the set while the name repeats. */
function addNames(names: Set<string>, rows: readonly NewTask[]): void {
  let last: string | undefined;
  for (const row of rows) {
    if (row.name === last) continue;
    last = row.name;
    names.add(last);
  }
}

function lineError(error: unknown, line: number, committedThrough: number, result: LinesResult): unknown {
  if (!(error instanceof DelaydError)) return error;
  const kept = result.enqueued + result.deduplicated;
  const after = committedThrough === 0
    ? 'nothing was written'
    : `the ${kept} tasks of lines 1-${committedThrough} were committed; nothing from line ${committedThrough + 1} on was written`;
  return new DelaydError(error.code, `line ${line}: ${error.message}; ${after}`, { cause: error });
}
