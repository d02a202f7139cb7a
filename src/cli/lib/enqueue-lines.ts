/**
 * `enqueue --file`: JSON Lines in, tasks out, in large transactions. Every line of a batch is
 * parsed and validated before the batch is written in one store.insert (one transaction), so
 * a bad line leaves nothing of its batch behind; the batches before it stay committed, and
 * the error says which lines those were.
 *
 * A line is {"name": "send", "args": [...], "countdown": 5} with any of the delay options
 * (countdown | eta, key, retries, backoff, timeout); args default to [].
 */
import { DEFAULTS } from '../../config.js';
import { DelaydError, describe } from '../../errors.js';
import { parseJsonExact } from './json.js';
import type { Inserted, NewTask } from '../../store/types.js';
import { buildRow, checkName, rowBase, type RowBase } from '../../validate.js';

export const BATCH_SIZE = 10_000;
/** A partial batch is written once the input has been quiet this long (a streaming producer). */
export const IDLE_FLUSH_MS = 100;

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
  insert: (rows: readonly NewTask[]) => Promise<Inserted[]>;
  now: () => number;
  batchSize?: number;
  /** How long the input may be quiet before a partial batch is written. @default IDLE_FLUSH_MS */
  idleMs?: number;
  /** The timer of the idle flush. @default setTimeout */
  setTimer?: (fn: () => void, ms: number) => { clear(): void };
  /** After each read's lines and after the last batch. */
  onProgress?: (result: LinesResult) => void;
}

const IDLE = Symbol('idle');

/**
 * Every failure, of a line, of the input or of the database, says which lines were committed:
 * a user who runs the file again would otherwise enqueue those twice.
 */
export async function enqueueLines(options: EnqueueLinesOptions): Promise<LinesResult> {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const idleMs = options.idleMs ?? IDLE_FLUSH_MS;
  const setTimer = options.setTimer ?? defaultTimer;
  const result: LinesResult = { lines: 0, enqueued: 0, deduplicated: 0, batches: 0, names: new Set() };
  const rows = new RowMaker();
  let batch: NewTask[] = [];
  let committedThrough = 0;
  let batchEnd = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    for (const row of await options.insert(batch)) {
      if (row.created) result.enqueued++;
      else result.deduplicated++;
    }
    addNames(result.names, batch);
    result.batches++;
    committedThrough = batchEnd;
    batch = [];
  };
  const iterator = options.lines[Symbol.asyncIterator]();
  // The line an error is about: the one being parsed, or the next one while reading.
  let at: number | undefined;
  try {
    for (;;) {
      at = result.lines + 1;
      const next = iterator.next();
      let step = batch.length > 0 ? await quietFor(next, idleMs, setTimer) : await next;
      if (step === IDLE) {
        at = undefined;
        await flush();
        at = result.lines + 1;
        step = await next;
      }
      if (step.done) break;
      for (const line of step.value) {
        result.lines++;
        if (line.trim() === '') continue;
        at = result.lines;
        batch.push(rows.parse(line, options.now()));
        batchEnd = result.lines;
        at = undefined;
        if (batch.length >= batchSize) await flush();
      }
      options.onProgress?.(result);
    }
    at = undefined;
    await flush();
  } catch (error) {
    throw failure(error, at, result, committedThrough);
  }
  options.onProgress?.(result);
  return result;
}

/** The next read, or IDLE when it has not come within `ms`. */
function quietFor<T>(next: Promise<T>, ms: number, setTimer: NonNullable<EnqueueLinesOptions['setTimer']>): Promise<T | typeof IDLE> {
  return new Promise((resolve, reject) => {
    const timer = setTimer(() => resolve(IDLE), ms);
    next.then(
      (value) => {
        timer.clear();
        resolve(value);
      },
      (error: unknown) => {
        timer.clear();
        reject(error);
      },
    );
  });
}

function defaultTimer(fn: () => void, ms: number): { clear(): void } {
  const handle = setTimeout(fn, ms);
  return { clear: () => clearTimeout(handle) };
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
  const value = parseJsonExact(line, (why) =>
    new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1], "countdown": 5}, got a line that ${why.replace(/^is not JSON/, 'is invalid JSON')}`),
  );
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

/**
 * The error with where it happened (the line being read, for a line's or the input's own
 * error) and what was committed before it; a failed insert wrote none of its batch.
 */
function failure(error: unknown, at: number | undefined, result: LinesResult, committedThrough: number): unknown {
  const kept = result.enqueued + result.deduplicated;
  const after = committedThrough === 0
    ? 'nothing was written'
    : `lines 1-${committedThrough} were committed (${kept} tasks); nothing from line ${committedThrough + 1} on was written`;
  if (error instanceof DelaydError) {
    const where = at === undefined ? '' : `line ${at}: `;
    return new DelaydError(error.code, `${where}${error.message}; ${after}`, { cause: error });
  }
  if (error instanceof Error) error.message = `${error.message}; ${after}`;
  return error;
}
