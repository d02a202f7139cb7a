/**
 * The JSON API under /api/v1, for producers in any language. Every answer has the shape the
 * CLI prints with --json (present.ts): POST /tasks what `delayd enqueue --json` prints,
 * GET /tasks/:id what `delayd show --json` prints, and so on. Input is checked by the CLI's
 * own code (a body is a line of `enqueue --file`) before the store is touched, so a bad
 * request changes nothing, and a bulk request is one insert: all of it or none.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { batchJson } from '../cli/commands/batch.js';
import { BATCH_SIZE, parseLine } from '../cli/lib/enqueue-lines.js';
import { parseJsonExact } from '../cli/lib/json.js';
import { iso, statsJson, taskJson } from '../cli/lib/present.js';
import { liveWorkers, processLiveContext, servedBy, type Served } from '../cli/lib/serving.js';
import type { Clock } from '../clock.js';
import { DelaydError, describe } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import { secondOf } from '../slot.js';
import { TASK_STATES, type Inserted, type ListFilter, type NewTask, type Store, type TaskState } from '../store/types.js';
import { readBody, type BodyLimits } from './body.js';
import type { ReadStore } from './read-thread.js';
import { sendJson } from './respond.js';

export interface ApiContext {
  app: Scheduler;
  /** Where writes go. */
  store: Store;
  /** Where reads go (the store, or a read thread beside it). */
  reads: ReadStore;
  clock: Clock;
  body: BodyLimits;
}

type Params = string[];
type Handler = (c: ApiContext, request: IncomingMessage, url: URL, params: Params) => Promise<[number, unknown]>;

const ID = '(\\d{1,15})';
const ROUTES: [method: string, path: RegExp, handler: Handler][] = [
  ['POST', /^\/tasks$/, enqueueOne],
  ['POST', /^\/tasks\/bulk$/, enqueueBulk],
  ['GET', /^\/tasks$/, listTasks],
  ['GET', new RegExp(`^/tasks/${ID}$`), getTask],
  ['POST', new RegExp(`^/tasks/${ID}/cancel$`), (c, _r, _u, [id]) => change(c, () => c.app.cancel(taskId(id)))],
  ['POST', new RegExp(`^/tasks/${ID}/retry$`), (c, _r, _u, [id]) => change(c, () => c.app.retry(taskId(id)))],
  ['POST', new RegExp(`^/tasks/${ID}/reschedule$`), reschedule],
  ['GET', /^\/stats$/, stats],
  ['GET', /^\/batches$/, recentBatches],
  ['GET', new RegExp(`^/batches/${ID}$`), getBatch],
];

/** Answers a request whose path starts with /api/v1 (given without it); rejects with a DelaydError. */
export async function handleApi(c: ApiContext, request: IncomingMessage, response: ServerResponse, path: string, url: URL): Promise<void> {
  let allowed: string[] = [];
  for (const [method, pattern, handler] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (method !== request.method) {
      allowed.push(method);
      continue;
    }
    const [status, body] = await handler(c, request, url, match.slice(1));
    return sendJson(response, status, body);
  }
  allowed = [...new Set(allowed)];
  if (allowed.length > 0) {
    return sendJson(response, 405, { error: { code: 'E_USAGE', message: `Expected ${allowed.join(' or ')} for /api/v1${path}, got ${request.method}` } }, { allow: allowed.join(', ') });
  }
  throw new DelaydError('E_NOT_FOUND', `No API route ${request.method} /api/v1${path}; see the README for the routes`);
}

async function enqueueOne(c: ApiContext, request: IncomingMessage): Promise<[number, unknown]> {
  const text = await readBody(request, c.body, c.clock);
  const now = c.clock.now();
  const row = asBody(() => parseLine(text, now));
  const [inserted] = await insert(c, [row], now);
  return [inserted!.created ? 201 : 200, enqueued(row, inserted!)];
}

async function enqueueBulk(c: ApiContext, request: IncomingMessage): Promise<[number, unknown]> {
  const text = await readBody(request, c.body, c.clock);
  const items = parseJsonExact(text, (why) => new DelaydError('E_BAD_ARGS', `Expected a JSON array of tasks such as [{"name": "send", "args": [1]}], got a body that ${why}`));
  if (!Array.isArray(items) || items.length === 0) {
    throw new DelaydError('E_BAD_ARGS', `Expected a non-empty JSON array of tasks such as [{"name": "send", "args": [1]}], got ${Array.isArray(items) ? 'an empty array' : describe(items)}`);
  }
  if (items.length > BATCH_SIZE) throw new DelaydError('E_BODY_TOO_LARGE', `Expected at most ${BATCH_SIZE} tasks in one bulk request, got ${items.length}`);
  const now = c.clock.now();
  // Every item is checked before the one insert: a bad item anywhere writes none of them.
  const rows = items.map((item, i) => {
    try {
      return asBody(() => parseLine(JSON.stringify(item), now));
    } catch (error) {
      if (!(error instanceof DelaydError)) throw error;
      throw new DelaydError(error.code, `item ${i}: ${error.message}; nothing was written`, { cause: error });
    }
  });
  const inserted = await insert(c, rows, now);
  return [201, inserted.map((row, i) => enqueued(rows[i]!, row))];
}

async function insert(c: ApiContext, rows: NewTask[], now: number): Promise<Inserted[]> {
  const inserted = await c.store.insert(rows);
  // Due now: claimed at once rather than at the next tick, as delay() does.
  // A failed claim is logged and retried by the next tick: nothing for this request to report.
  if (inserted.some((row) => row.created && secondOf(row.dueMs) <= secondOf(now))) c.app.tick(secondOf(now)).catch(() => {});
  return inserted;
}

function enqueued(row: NewTask, inserted: Inserted) {
  return { id: inserted.id, name: row.name, due: iso(inserted.dueMs), created: inserted.created };
}

/** parseLine speaks of "a line" (of `enqueue --file`); here it is the request body. */
function asBody<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DelaydError) throw new DelaydError(error.code, error.message.replace('got a line that', 'got a body that'), { cause: error });
    throw error;
  }
}

const LIST_MAX = 1000;

async function listTasks(c: ApiContext, _request: IncomingMessage, url: URL): Promise<[number, unknown]> {
  const filter = toListFilter(url.searchParams);
  const rows = await c.reads.list(filter);
  const served = await servedNow(c);
  const last = rows[rows.length - 1];
  return [200, { tasks: rows.map((row) => taskJson(row, served)), nextBefore: last && rows.length === filter.limit ? last.id : null }];
}

export function toListFilter(query: URLSearchParams): ListFilter & { limit: number } {
  for (const key of query.keys()) {
    if (!['state', 'name', 'limit', 'before'].includes(key)) {
      throw new DelaydError('E_UNKNOWN_OPTION', `Unknown query parameter \`${key}\`; expected one of state, name, limit, before`);
    }
  }
  const filter: ListFilter & { limit: number } = { limit: 100 };
  const state = query.get('state');
  if (state !== null) {
    if (!(TASK_STATES as readonly string[]).includes(state)) throw new DelaydError('E_BAD_OPTION', `Expected \`state\` to be one of ${TASK_STATES.join(', ')}, got ${describe(state)}`);
    filter.state = state as TaskState;
  }
  const name = query.get('name');
  if (name !== null) filter.name = name;
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > LIST_MAX) throw new DelaydError('E_BAD_OPTION', `Expected \`limit\` to be an integer from 1 to ${LIST_MAX}, got ${describe(limit)}`);
    filter.limit = Number(limit);
  }
  const before = query.get('before');
  if (before !== null) filter.beforeId = taskId(before, '`before` (the last id of the page before)');
  return filter;
}

async function getTask(c: ApiContext, _r: IncomingMessage, _u: URL, [id]: Params): Promise<[number, unknown]> {
  const row = await c.reads.get(taskId(id));
  if (!row) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
  return [200, taskJson(row, await servedNow(c))];
}

async function change(c: ApiContext, apply: () => Promise<Parameters<typeof taskJson>[0]>): Promise<[number, unknown]> {
  // Read before the change, as the CLI does: nothing that could fail runs after it is committed.
  const served = await servedNow(c);
  return [200, taskJson(await apply(), served)];
}

async function reschedule(c: ApiContext, request: IncomingMessage, _u: URL, [id]: Params): Promise<[number, unknown]> {
  const text = await readBody(request, c.body, c.clock);
  const body = parseJsonExact(text, (why) => new DelaydError('E_BAD_OPTION', `Expected a JSON object such as {"countdown": 60} or {"eta": "2030-01-01T09:00:00Z"}, got a body that ${why}`));
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new DelaydError('E_BAD_OPTION', `Expected a JSON object such as {"countdown": 60} or {"eta": "2030-01-01T09:00:00Z"}, got ${describe(body)}`);
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'countdown' && key !== 'eta') throw new DelaydError('E_UNKNOWN_OPTION', `Unknown field \`${key}\`; expected countdown or eta`);
  }
  if (record.countdown === undefined && record.eta === undefined) throw new DelaydError('E_BAD_OPTION', 'Expected `countdown` or `eta`, got neither');
  const when = record as { countdown?: number; eta?: string };
  return change(c, () => c.app.reschedule(taskId(id), when));
}

async function stats(c: ApiContext): Promise<[number, unknown]> {
  const context = processLiveContext(c.clock.now());
  const [s, workers] = [await c.reads.stats(), await c.reads.workers()];
  return [200, statsJson(s, liveWorkers(workers, context), servedBy(workers, context))];
}

async function recentBatches(c: ApiContext, _r: IncomingMessage, url: URL): Promise<[number, unknown]> {
  const raw = url.searchParams.get('limit') ?? '20';
  if (!/^\d{1,3}$/.test(raw)) throw new DelaydError('E_BAD_OPTION', `Expected \`limit\` to be an integer from 1 to 100, got ${describe(raw)}`);
  const rows = await c.reads.recentBatches(Number(raw));
  return [200, rows.map((b) => ({ id: b.id, name: b.name, total: b.total, succeeded: b.ok, failed: b.done - b.ok, pending: b.total - b.done, complete: b.done === b.total, key: b.key, created: iso(b.createdMs), finished: b.finishedMs === null ? null : iso(b.finishedMs) }))];
}

async function getBatch(c: ApiContext, _r: IncomingMessage, _u: URL, [id]: Params): Promise<[number, unknown]> {
  const batch = await c.app.batch(taskId(id, 'a batch id')); // E_NOT_FOUND for an unknown id
  return [200, await batchJson(batch, c.store)];
}

function taskId(raw: string | undefined, what = 'a task id'): number {
  const id = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1) throw new DelaydError('E_BAD_OPTION', `Expected ${what} (a positive integer), got ${describe(raw)}`);
  return id;
}

export async function servedNow(c: { reads: ReadStore; clock: Clock }): Promise<Served> {
  return servedBy(await c.reads.workers(), processLiveContext(c.clock.now()));
}
