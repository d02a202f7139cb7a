/**
 * Prometheus metrics of one scheduler, through prom-client (an optional peer dependency, loaded
 * only here, when metrics are asked for). Counters and histograms follow the scheduler's
 * events; the task counts by state are read from the store's stats at scrape time (shared
 * with the dashboard, at most once a second). Each event costs a label lookup and an
 * increment: nothing here waits on the store in the scheduler's path.
 */
import type { Clock } from '../clock.js';
import { DelaydError } from '../errors.js';
import type { SchedulerEvents } from '../events.js';
import type { Scheduler } from '../scheduler.js';
import { TASK_STATES, type Stats } from '../store/types.js';

// prom-client's types stay inside this file: delayd's published declarations must type-check
// for a user who has not installed the optional peer.
type PromClient = typeof import('prom-client');

/** The part of prom-client's Registry that delayd promises; at run time it is a prom-client Registry (for Registry.merge). */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Lateness (start minus due) in seconds: fine enough to see milliseconds, wide enough for a backlog. */
export const LATENESS_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
export const CLAIM_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** Attempts started and not ended that are remembered for their duration; beyond, the oldest are forgotten. */
const MAX_OPEN = 100_000;

export interface MetricsOptions {
  clock: Clock;
  /** The store's stats, cached by the caller. */
  stats: () => Promise<Stats>;
  /** Node's default metrics (event loop lag, memory, GC). @default true */
  defaultMetrics?: boolean;
  /** How prom-client is loaded (tests hand in one that fails). @default import('prom-client') */
  load?: () => Promise<unknown>;
}

export interface Metrics {
  registry: MetricsRegistry;
  contentType: string;
  /** The exposition text. */
  text(): Promise<string>;
  /** Stops following the scheduler's events. */
  close(): void;
}

/** prom-client, or E_MISSING_DEPENDENCY with the line that installs it. */
export async function loadPromClient(load: () => Promise<unknown> = () => import('prom-client')): Promise<unknown> {
  try {
    const loaded = (await load()) as PromClient & { default?: PromClient };
    return loaded.Registry ? loaded : (loaded.default as PromClient);
  } catch (error) {
    throw new DelaydError(
      'E_MISSING_DEPENDENCY',
      `Expected the optional peer dependency prom-client (15) for metrics, got none installed (${(error as Error).message}); install it beside delayd: npm install prom-client@15`,
      { cause: error },
    );
  }
}

export async function createMetrics(app: Scheduler, options: MetricsOptions): Promise<Metrics> {
  const prom = (await loadPromClient(options.load)) as PromClient;
  const registry = new prom.Registry();
  if (options.defaultMetrics !== false) prom.collectDefaultMetrics({ register: registry });
  const { clock } = options;
  const registers = [registry];

  new prom.Gauge({
    name: 'delayd_tasks',
    help: 'Tasks in the store by state (every daemon on the store sees the same counts)',
    labelNames: ['state'],
    registers,
    async collect() {
      const stats = await options.stats();
      for (const state of TASK_STATES) this.set({ state }, stats.counts[state]);
    },
  });
  new prom.Gauge({
    name: 'delayd_wheel_cursor_seconds',
    help: 'The persisted cursor of the wheel (unix seconds): every task due at or before it has been claimed',
    registers,
    async collect() {
      const { cursor } = await options.stats();
      if (cursor !== null) this.set(cursor);
    },
  });
  new prom.Gauge({
    name: 'delayd_running_attempts',
    help: 'Attempts running in this daemon now',
    registers,
    collect() {
      this.set(app.runningTasks().length);
    },
  });
  const lateness = new prom.Histogram({
    name: 'delayd_task_lateness_seconds',
    help: 'How late attempts started: start minus due time, per task name',
    labelNames: ['name'],
    buckets: LATENESS_BUCKETS,
    registers,
  });
  const duration = new prom.Histogram({
    name: 'delayd_task_duration_seconds',
    help: 'How long attempts ran, by task name and outcome (succeeded, failed, retrying)',
    labelNames: ['name', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const finished = new prom.Counter({
    name: 'delayd_tasks_finished_total',
    help: 'Attempts ended, by task name and outcome: succeeded, failed (no retries left) or retrying',
    labelNames: ['name', 'outcome'],
    registers,
  });
  const claims = new prom.Histogram({
    name: 'delayd_claim_duration_seconds',
    help: "One claim's round trip to the store, whatever it brought",
    buckets: CLAIM_BUCKETS,
    registers,
  });
  const claimed = new prom.Counter({ name: 'delayd_tasks_claimed_total', help: 'Tasks claimed by this daemon', registers });
  const putBack = new prom.Counter({
    name: 'delayd_tasks_put_back_total',
    help: 'Running tasks put back to scheduled, by why: stopped (this daemon, at stop), process_gone, lease_expired, orphaned (a dead daemon\'s)',
    labelNames: ['why'],
    registers,
  });
  const storeErrors = new prom.Counter({
    name: 'delayd_store_errors_total',
    help: 'Failed store calls, by kind of call (claim, heartbeat, write, start, release) and error code',
    labelNames: ['kind', 'code'],
    registers,
  });

  const open = new Map<number, number>();
  const ended = (name: string, taskId: number, outcome: string, durationMs?: number) => {
    const startedMs = open.get(taskId);
    open.delete(taskId);
    const ms = durationMs ?? (startedMs === undefined ? undefined : clock.now() - startedMs);
    finished.inc({ name, outcome });
    if (ms !== undefined) duration.observe({ name, outcome }, Math.max(0, ms) / 1000);
  };
  const listeners: { [E in keyof SchedulerEvents]?: (e: SchedulerEvents[E]) => void } = {
    accepted: (e) => {
      lateness.observe({ name: e.name }, Math.max(0, e.lateMs) / 1000);
      if (open.size >= MAX_OPEN) open.delete(open.keys().next().value as number);
      open.set(e.taskId, e.startedMs);
    },
    succeeded: (e) => ended(e.name, e.taskId, 'succeeded', e.durationMs),
    failed: (e) => ended(e.name, e.taskId, 'failed'),
    retrying: (e) => ended(e.name, e.taskId, 'retrying'),
    claimed: (e) => {
      claims.observe(e.durationMs / 1000);
      if (e.count > 0) claimed.inc(e.count);
    },
    putBack: (e) => {
      if (e.count > 0) putBack.inc({ why: e.reason }, e.count);
    },
    storeError: (e) => storeErrors.inc({ kind: e.kind, code: e.code ?? 'none' }),
  };
  for (const [event, listener] of Object.entries(listeners)) app.on(event, listener as (e: unknown) => void);
  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: () => {
      for (const [event, listener] of Object.entries(listeners)) app.off(event, listener as (e: unknown) => void);
    },
  };
}
