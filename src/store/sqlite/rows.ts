/** Rows as SQLite returns them, and their conversion to the store's types. */
import type { AttemptError, TaskRow, TaskState, WorkerRow } from '../types.js';

export interface RawTask {
  id: number;
  name: string;
  args: string;
  state: TaskState;
  due_ms: number;
  slot: number;
  cycle: number;
  attempts: number;
  cut_offs: number;
  retries: number | null;
  backoff_ms: number | null;
  timeout_ms: number | null;
  key: string | null;
  owner: string | null;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  last_error: string | null;
  last_error_code: string | null;
  errors: string | null;
  result: string | null;
}

export interface RawWorker {
  owner: string;
  host: string;
  pid: number;
  names: string;
  policies: string;
  started_ms: number;
  beat: number;
  seen_ms: number;
}

export function toTaskRow(row: RawTask): TaskRow {
  return {
    id: row.id,
    name: row.name,
    args: row.args,
    dueMs: row.due_ms,
    attempts: row.attempts,
    cutOffs: row.cut_offs,
    retries: row.retries,
    backoffMs: row.backoff_ms,
    timeoutMs: row.timeout_ms,
    state: row.state,
    key: row.key,
    owner: row.owner,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    lastError: row.last_error,
    lastErrorCode: row.last_error_code,
    errors: row.errors === null ? [] : (JSON.parse(row.errors) as StoredError[]).map(toAttemptError),
    result: row.result,
  };
}

export function toWorkerRow(row: RawWorker): WorkerRow {
  return {
    owner: row.owner,
    host: row.host,
    pid: row.pid,
    names: JSON.parse(row.names) as string[],
    policies: JSON.parse(row.policies) as WorkerRow['policies'],
    startedMs: row.started_ms,
    beat: row.beat,
    seenMs: row.seen_ms,
  };
}

/** An entry of `errors`: rows written before schema 5 have only attempt, atMs and error. */
type StoredError = Partial<AttemptError> & { attempt: number; atMs: number; error: string };

function toAttemptError(e: StoredError): AttemptError {
  const stack = e.stack ?? e.error;
  return {
    attempt: e.attempt,
    atMs: e.atMs,
    code: e.code ?? null,
    message: e.message ?? firstLine(e.error),
    stack,
    error: stack,
  };
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}
