/**
 * How tasks and stats look on the way out: one JSON shape for --json (times as ISO strings,
 * args and results parsed), and aligned text for people.
 */
import { DEFAULT_POLICY, explainPolicy, type ExplainedPolicy, type PolicySource } from '../../policy.js';
import { positionOfMs } from '../../slot.js';
import type { Stats, TaskRow, WorkerRow } from '../../store/types.js';
import { TASK_STATES } from '../../store/types.js';
import { formatDuration, relativeTime } from './duration.js';
import { unservedCounts, type Served } from './serving.js';
import { formatFields, formatTable, truncate } from './table.js';

export interface TaskJson {
  id: number;
  name: string;
  state: TaskRow['state'];
  args: unknown;
  due: string;
  attempts: number;
  cutOffs: number;
  /** The overrides given at enqueue (null: not given); `policy` has what applies. */
  retries: number | null;
  backoffMs: number | null;
  timeoutMs: number | null;
  policy: ExplainedPolicy;
  key: string | null;
  owner: string | null;
  slot: number;
  cycle: number;
  created: string;
  started: string | null;
  finished: string | null;
  lastError: string | null;
  lastErrorCode: string | null;
  errors: { attempt: number; at: string; code: string | null; error: string }[];
  result: unknown;
}

/**
 * The policy a task runs under: its overrides, else what a live daemon serving its name
 * declares, else the defaults. Without a live daemon for the name, "default" may be wrong
 * (its handler may declare another): showText says so.
 */
export function policyOf(row: TaskRow, served: Served): ExplainedPolicy {
  return explainPolicy(row, served.policies.get(row.name), DEFAULT_POLICY);
}

export function taskJson(row: TaskRow, served: Served): TaskJson {
  return {
    id: row.id,
    name: row.name,
    state: row.state,
    args: parseJson(row.args),
    due: iso(row.dueMs),
    attempts: row.attempts,
    cutOffs: row.cutOffs ?? 0,
    retries: row.retries,
    backoffMs: row.backoffMs,
    timeoutMs: row.timeoutMs,
    policy: policyOf(row, served),
    key: row.key,
    owner: row.owner,
    // The wheel's place of the due second (slot.ts), whatever the backend.
    ...positionOfMs(row.dueMs),
    created: iso(row.createdMs),
    started: row.startedMs === null ? null : iso(row.startedMs),
    finished: row.finishedMs === null ? null : iso(row.finishedMs),
    lastError: row.lastError,
    lastErrorCode: row.lastErrorCode ?? null,
    errors: row.errors.map((e) => ({ attempt: e.attempt, at: iso(e.atMs), code: e.code ?? null, error: e.error })),
    result: row.result === null ? null : parseJson(row.result),
  };
}

/** `delayd stats --json`: counts keyed by state name, then the wheel, the live daemons, and what no live daemon serves. */
export function statsJson(stats: Stats, live: readonly WorkerRow[], served: Served) {
  return {
    ...stats.counts,
    cursor: stats.cursor,
    cursorTime: stats.cursor === null ? null : iso(stats.cursor * 1000),
    nextDue: stats.nextDueMs === null ? null : iso(stats.nextDueMs),
    ...backendJson(stats),
    busiestSlots: stats.busiestSlots,
    daemons: live.map((w) => ({ owner: w.owner, host: w.host, pid: w.pid, tasks: w.names, started: iso(w.startedMs), seen: iso(w.seenMs) })),
    unserved: unservedCounts(stats.scheduledByName, served),
  };
}

export function statsText(stats: Stats, live: readonly WorkerRow[], served: Served, nowMs: number): string {
  const counts = formatTable(['STATE', 'TASKS'], TASK_STATES.map((state) => [state, stats.counts[state]]));
  const slots = stats.busiestSlots.length === 0
    ? 'none scheduled'
    : stats.busiestSlots.map((s) => `slot ${s.slot}: ${s.count}`).join(', ');
  const unserved = Object.entries(unservedCounts(stats.scheduledByName, served));
  const fields = formatFields([
    ['cursor', stats.cursor === null ? 'not started' : `${iso(stats.cursor * 1000)} (second ${stats.cursor})`],
    ['next due', stats.nextDueMs === null ? 'nothing scheduled' : `${iso(stats.nextDueMs)} (${relativeTime(stats.nextDueMs, nowMs)})`],
    ['busiest slots', slots],
    ...backendFields(stats),
    ['daemons', live.length === 0 ? 'none live' : live.map((w) => `${w.host}:${w.pid} serves ${w.names.join(', ') || 'nothing'}`).join('\n')],
    ['unserved', unserved.length === 0 ? 'none (every scheduled task has a live daemon for its name)' : `${unserved.map(([name, n]) => `${name}: ${n}`).join(', ')} (scheduled, waiting for a live daemon with the handler)`],
  ]);
  return `${counts}\n${fields}`;
}

/** What one backend adds to `stats --json` (SQLite: inBuckets, as before the contract was split). */
function backendJson(stats: Stats): Record<string, unknown> {
  const { kind, ...details } = stats.backend;
  return { ...details, backend: kind };
}

function backendFields(stats: Stats): [string, string][] {
  const b = stats.backend;
  if (b.kind === 'sqlite' && typeof b.inBuckets === 'number') return [['in hour buckets', `${b.inBuckets} (due in later hours, not in a slot yet)`]];
  return [['backend', `${b.kind}${Object.entries(b).filter(([k]) => k !== 'kind').map(([k, v]) => `, ${k} ${JSON.stringify(v)}`).join('')}`]];
}

function wheelText(dueMs: number): string {
  const { slot, cycle } = positionOfMs(dueMs);
  return `slot ${slot}, cycle ${cycle}`;
}

export function listText(rows: readonly TaskRow[], nowMs: number): string {
  if (rows.length === 0) return 'no tasks\n';
  return formatTable(
    ['ID', 'NAME', 'STATE', 'DUE', 'ATTEMPTS', 'ERROR', 'ARGS'],
    rows.map((row) => [row.id, row.name, row.state, `${iso(row.dueMs)} (${relativeTime(row.dueMs, nowMs)})`, row.attempts, row.lastErrorCode ?? null, truncate(row.args, 40)]),
  );
}

const FROM: Record<PolicySource, string> = { task: 'given at enqueue', handler: 'from the handler', default: 'default' };

export function showText(row: TaskRow, nowMs: number, served: Served): string {
  const when = (ms: number | null) => (ms === null ? null : `${iso(ms)} (${relativeTime(ms, nowMs)})`);
  const p = policyOf(row, served);
  const from = (source: PolicySource) => `(${FROM[source]})`;
  const seconds = (ms: number) => `${ms / 1000} s${ms >= 60_000 ? ` (${formatDuration(ms)})` : ''}`;
  const unserved = served.names.has(row.name)
    ? []
    : [['policy', `no live daemon serves ${JSON.stringify(row.name)}: a value marked default may be what its handler declares otherwise`] as [string, string]];
  return formatFields([
    ['id', row.id],
    ['name', row.name],
    ['state', row.state],
    ['args', row.args],
    ['due', when(row.dueMs)],
    ['attempts', `${row.attempts}${row.cutOffs ? `, ${row.cutOffs} cut off (their daemon died)` : ''}`],
    ['retries', `${p.retries.value} ${from(p.retries.from)}`],
    ['backoff', `${seconds(p.backoffMs.value)} ${from(p.backoffMs.from)}`],
    ['timeout', `${p.timeoutMs.value === null ? 'none' : seconds(p.timeoutMs.value)} ${from(p.timeoutMs.from)}`],
    ['max cut-offs', `${p.maxCutOffs.value} ${from(p.maxCutOffs.from)}`],
    ...unserved,
    ['key', row.key],
    ['owner', row.owner],
    ['wheel', wheelText(row.dueMs)],
    ['created', when(row.createdMs)],
    ['started', when(row.startedMs)],
    ['finished', when(row.finishedMs)],
    ['last error code', row.lastErrorCode ?? null],
    ['last error', row.lastError],
    ...row.errors.slice(0, -1).map((e): [string, string] => [`attempt ${e.attempt} failed`, `${when(e.atMs)}: ${e.code ? `${e.code}: ` : ''}${firstLine(e.error)}`]),
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
