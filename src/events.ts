/**
 * The scheduler's events, typed, and how they are sent: a listener's throw is logged, never
 * propagated into the scheduler (a metrics exporter with a bug must not stop a claim).
 * Outcome events ('succeeded', 'retrying', 'failed') are sent only once the outcome is
 * committed; 'accepted' when an attempt's handler is about to run.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import type { ErrorInfo } from './store/types.js';

interface Attempt {
  taskId: number;
  name: string;
  attempt: number;
}

export interface SchedulerEvents {
  received: { taskId: number; name: string; dueMs: number; created: boolean };
  /** lateMs = startedMs - dueMs: how late the handler started (never negative unless a clock jumped). */
  accepted: Attempt & { dueMs: number; startedMs: number; lateMs: number };
  succeeded: Attempt & { durationMs: number; result: unknown };
  retrying: Attempt & { error: ErrorInfo; dueMs: number };
  failed: Attempt & { error: ErrorInfo };
  /** One claim's round trip to the store, whatever it brought (count may be 0). */
  claimed: { second: number; count: number; durationMs: number };
  /**
   * Tasks of an owner put back to scheduled: ours at stop, or a dead owner's. `reason` is one of
   * a fixed few (for a metric's label); `why` says it for people (with a pid or a duration).
   */
  putBack: { owner: string; count: number; reason: PutBackReason; why: string };
  /** A store call failed (kind: claim, heartbeat, write, start, release); code null when it had none. */
  storeError: { kind: string; code: string | null };
  /** The store keeps failing in a way no retry mends (a corrupt file). */
  fatal: { error: unknown; kind: string };
}

export type SchedulerEvent = keyof SchedulerEvents;

/** stopped: ours, at stop; process_gone: its pid on this host is gone; lease_expired: no beat for leaseMs; orphaned: no worker row. */
export type PutBackReason = 'stopped' | 'process_gone' | 'lease_expired' | 'orphaned';

/** Sends an event, logging (not throwing) whatever a listener throws. */
export function safeEmit<E extends SchedulerEvent>(
  emitter: EventEmitter,
  logger: Logger,
  event: E,
  payload: SchedulerEvents[E],
): void {
  try {
    emitter.emit(event, payload);
  } catch (error) {
    logger.error({ err: error, event }, 'an event listener threw');
  }
}
