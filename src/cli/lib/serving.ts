/**
 * Which task names some live daemon serves, from the workers table its heartbeat fills. A row
 * can outlive its daemon after a crash, so a daemon counts as live when its pid still runs
 * (same host) or, on another host, when it was seen recently by its own clock.
 */
import { hostname } from 'node:os';
import { pidAlive } from '../../liveness.js';
import type { Store, TaskPolicy, WorkerRow } from '../../store/types.js';
import { warn, type Io } from '../context.js';

/** How recently a daemon on another host must have beaten to count as live. */
export const REMOTE_STALE_MS = 120_000;

export interface LiveContext {
  nowMs: number;
  host: string;
  isAlive: (pid: number) => boolean;
}

export function liveWorkers(workers: readonly WorkerRow[], context: LiveContext): WorkerRow[] {
  return workers.filter((w) =>
    w.host === context.host ? context.isAlive(w.pid) : context.nowMs - w.seenMs <= REMOTE_STALE_MS,
  );
}

/** The names among `names` that no live daemon serves, in the order given. */
export function unservedNames(names: Iterable<string>, workers: readonly WorkerRow[], context: LiveContext): string[] {
  const served = new Set(liveWorkers(workers, context).flatMap((w) => w.names));
  return [...new Set(names)].filter((name) => !served.has(name));
}

/** The warning line for names nobody serves, or undefined when every name is served. */
export function unservedWarning(names: Iterable<string>, workers: readonly WorkerRow[], context: LiveContext): string | undefined {
  const missing = unservedNames(names, workers, context);
  if (missing.length === 0) return undefined;
  const live = liveWorkers(workers, context);
  const known = [...new Set(live.flatMap((w) => w.names))].sort();
  const quoted = missing.slice(0, 5).map((n) => `"${n}"`).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
  const why = live.length === 0 ? 'no daemon is running on this database' : `live daemons serve ${known.join(', ') || 'nothing'}`;
  return `no live daemon serves ${quoted} (${why}); enqueued anyway, it waits until a daemon with that handler runs`;
}

export function processLiveContext(nowMs: number): LiveContext {
  return { nowMs, host: hostname(), isAlive: pidAlive };
}

/** What live daemons say about the names they serve: which, and each one's declared policy. */
export interface Served {
  names: Set<string>;
  policies: Map<string, TaskPolicy>;
}

export function servedBy(workers: readonly WorkerRow[], context: LiveContext): Served {
  const served: Served = { names: new Set(), policies: new Map() };
  for (const worker of liveWorkers(workers, context)) {
    for (const name of worker.names) served.names.add(name);
    for (const [name, policy] of Object.entries(worker.policies ?? {})) if (!served.policies.has(name)) served.policies.set(name, policy);
  }
  return served;
}

/** Scheduled tasks by name that no live daemon serves: they wait until one with the handler runs. */
export function unservedCounts(scheduledByName: Record<string, number> | undefined, served: Served): Record<string, number> {
  return Object.fromEntries(Object.entries(scheduledByName ?? {}).filter(([name, n]) => n > 0 && !served.names.has(name)).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The names live daemons serve and their declared policies (policy.ts explains the rest). */
export async function liveServed(store: Store, io: Io): Promise<Served> {
  return servedBy(await store.workers(), processLiveContext(io.clock.now()));
}

/** After an enqueue: a warning on stderr for the names no live daemon serves. */
export async function warnUnserved(store: Store, names: Iterable<string>, io: Io): Promise<void> {
  const message = unservedWarning(names, await store.workers(), processLiveContext(io.clock.now()));
  if (message) warn(io, message);
}
