/**
 * How tasks and stats look on the way out: one JSON shape for --json (times as ISO strings,
 * args and results parsed), and aligned text for people.
 */
import type { Stats, TaskRow, WorkerRow } from '../store/types.js';
import { TASK_STATES } from '../store/types.js';
import { relativeTime } from './duration.js';
import { formatFields, formatTable, truncate } from './table.js';

export interface TaskJson {
  id: number;
  name: string;
  state: TaskRow['state'];
  args: unknown;
  due: string;
  attempts: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number | null;
  key: string | null;
  owner: string | null;
  slot: number;
  cycle: number;
  created: string;
  started: string | null;
  finished: string | null;
  lastError: string | null;
  errors: { attempt: number; at: string; error: string }[];
  result: unknown;
}

export function taskJson(row: TaskRow): TaskJson {
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    args: parseJson(row.args),
    due: iso(row.dueMs),
    attempts: row.attempts,
    retries: row.retries,
    backoffMs: row.backoffMs,
    timeoutMs: row.timeoutMs,
    key: row.key,
    owner: row.owner,
    slot: row.slot,
    cycle: row.cycle,
    created: iso(row.createdMs),
    started: row.startedMs === null ? null : iso(row.startedMs),
    finished: row.finishedMs === null ? null : iso(row.finishedMs),
    lastError: row.lastError,
    errors: row.errors.map((e) => ({ attempt: e.attempt, at: iso(e.atMs), error: e.error })),
    result: row.result === null ? null : parseJson(row.result),
  };
}

/** `delayd stats --json`: counts keyed by state name, then the wheel and the daemons. */
export function statsJson(stats: Stats, workers: readonly WorkerRow[]) {
  return {
    ...stats.counts,
    cursor: stats.cursor,
    cursorTime: stats.cursor === null ? null : iso(stats.cursor * 1000),
    nextDue: stats.nextDueMs === null ? null : iso(stats.nextDueMs),
    inBuckets: stats.inBuckets,
    busiestSlots: stats.busiestSlots,
    daemons: workers.map((w) => ({ owner: w.owner, host: w.host, pid: w.pid, tasks: w.names, started: iso(w.startedMs), seen: iso(w.seenMs) })),
  };
}

export function statsText(stats: Stats, workers: readonly WorkerRow[], nowMs: number): string {
  const counts = formatTable(['STATE', 'TASKS'], TASK_STATES.map((state) => [state, stats.counts[state]]));
  const slots = stats.busiestSlots.length === 0
    ? 'none scheduled'
    : stats.busiestSlots.map((s) => `slot ${s.slot}: ${s.count}`).join(', ');
  const fields = formatFields([
    ['cursor', stats.cursor === null ? 'not started' : `${iso(stats.cursor * 1000)} (second ${stats.cursor})`],
    ['next due', stats.nextDueMs === null ? 'nothing scheduled' : `${iso(stats.nextDueMs)} (${relativeTime(stats.nextDueMs, nowMs)})`],
    ['busiest slots', slots],
    ['in hour buckets', `${stats.inBuckets} (due in later hours, not in a slot yet)`],
    ['daemons', workers.length === 0 ? 'none' : workers.map((w) => `${w.host}:${w.pid} serves ${w.names.join(', ') || 'nothing'}`).join('\n')],
  ]);
  return `${counts}\n${fields}`;
}

export function listText(rows: readonly TaskRow[], nowMs: number): string {
  if (rows.length === 0) return 'no tasks\n';
  return formatTable(
    ['ID', 'NAME', 'STATE', 'DUE', 'ATTEMPTS', 'ARGS'],
    rows.map((row) => [row.id, row.name, row.state, `${iso(row.dueMs)} (${relativeTime(row.dueMs, nowMs)})`, row.attempts, truncate(row.args, 40)]),
  );
}

export function showText(row: TaskRow, nowMs: number): string {
  const when = (ms: number | null) => (ms === null ? null : `${iso(ms)} (${relativeTime(ms, nowMs)})`);
  return formatFields([
    ['id', row.id],
    ['name', row.name],
    ['state', row.state],
    ['args', row.args],
    ['due', when(row.dueMs)],
    ['attempts', `${row.attempts} (retries allowed: ${row.retries}, backoff ${row.backoffMs} ms)`],
    ['timeout', row.timeoutMs === null ? 'none' : `${row.timeoutMs} ms`],
    ['key', row.key],
    ['owner', row.owner],
    ['wheel', `slot ${row.slot}, cycle ${row.cycle}`],
    ['created', when(row.createdMs)],
    ['started', when(row.startedMs)],
    ['finished', when(row.finishedMs)],
    ['last error', row.lastError],
    ...row.errors.slice(0, -1).map((e): [string, string] => [`attempt ${e.attempt} failed`, `${when(e.atMs)}: ${firstLine(e.error)}`]),
    ['result', row.result],
  ]);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
