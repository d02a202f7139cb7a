/**
 * The code that runs inside each worker thread of the pool (threads.ts). On its first request
 * a thread imports the handler modules; then, per attempt, it finds the handler by task name
 * and runs it with a context like the scheduler's, and answers with data only.
 *
 * The handler is, in this order: an export of the modules decorated under that name (with
 * task() or `app.task()`); a function exported under the task's name (a module of plain
 * functions, which the main thread registers with `app.task(name, ...)(fn)`); or one
 * registered under that name with bare task() in the thread's copy of delayd, not exported.
 * Importing a module runs its top-level code in every thread, so keep opening schedulers and
 * enqueueing out of handler modules, or behind `isMainThread`.
 *
 * `this.signal` never aborts here: a timeout or a stop terminates the whole thread instead.
 */
import { RetryLater } from './errors.js';
import { errorInfo, errorText, resultJson } from './attempt-error.js';
import { makeContext, type Handler } from './runner.js';
import type { ThreadReply, ThreadRequest } from './threads.js';

const imported = new Map<string, Promise<Record<string, unknown>>>();
const never = new AbortController().signal;

// Bare task().delay() must not open $DELAYD_DB from here (see default.ts). A symbol, not an
// import of default.js: that would load the whole scheduler (SQLite, pino) into every thread,
// about 50 ms each, for modules of plain functions that never need it.
(globalThis as Record<symbol, unknown>)[Symbol.for('delayd.poolThread')] = true;

export default async function runInThread(request: ThreadRequest): Promise<ThreadReply> {
  let handler: Handler | undefined;
  try {
    handler = await handlerFor(request.name, request.modules);
  } catch (error) {
    return { ok: false, text: `Could not import the thread modules: ${errorText(error)}` };
  }
  if (!handler) {
    const where = request.modules.length === 0 ? 'no threadModules were given' : `looked in ${request.modules.join(', ')}`;
    return { ok: false, unknown: true, text: `No handler is registered for task "${request.name}" in the worker thread (${where})` };
  }
  const task = {
    id: request.id, name: request.name, args: '', dueMs: request.dueMs, attempts: request.attempt - 1, cutOffs: 0,
    retries: null, backoffMs: null, timeoutMs: null,
  };
  try {
    const result = await handler.apply(makeContext(task, { signal: never }), request.args as never[]);
    // resultJson throws E_BAD_RESULT for what is not JSON: answered below like any error.
    return { ok: true, json: resultJson(result) };
  } catch (error) {
    if (error instanceof RetryLater) return { ok: false, text: errorText(error), retryMs: error.delayMs, reason: error.message };
    const info = errorInfo(error);
    return { ok: false, text: info.stack, message: info.message, code: info.code };
  }
}

async function handlerFor(name: string, modules: readonly string[]): Promise<Handler | undefined> {
  const namespaces = await Promise.all(modules.map(load));
  for (const namespace of namespaces) {
    for (const value of Object.values(namespace)) {
      if (typeof value === 'function' && (value as { taskName?: unknown }).taskName === name) return value as Handler;
    }
  }
  const named = namespaces.map((namespace) => namespace[name]).find((value) => typeof value === 'function');
  if (named) return named as Handler;
  // Loaded already when the modules import delayd (the registry is then the one they filled).
  const { defaultRegistry } = await import('./default.js');
  return defaultRegistry.get(name)?.handler;
}

function load(url: string): Promise<Record<string, unknown>> {
  let module = imported.get(url);
  if (!module) {
    module = import(url) as Promise<Record<string, unknown>>;
    imported.set(url, module);
  }
  return module;
}
