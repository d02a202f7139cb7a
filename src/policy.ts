/**
 * A task's effective policy: what was given at enqueue (stored on the row) wins, then what its
 * handler declares in task(name, options), then the defaults. Resolved by the scheduler that
 * runs the task, at claim time, so a task runs under the policy of the handler that runs it,
 * whoever enqueued it; a task enqueued before its handler's policy changed gets the new one.
 */
import type { TaskPolicy } from './store/types.js';

export const DEFAULT_POLICY = { retries: 0, backoffMs: 1000, timeoutMs: null as number | null, maxCutOffs: 3 };

export type PolicySource = 'task' | 'handler' | 'default';

export interface Policy {
  retries: number;
  backoffMs: number;
  timeoutMs: number | null;
  /** Attempts cut off by the death of their owner before the task fails with E_CUT_OFF. */
  maxCutOffs: number;
}

export interface ExplainedPolicy {
  retries: { value: number; from: PolicySource };
  backoffMs: { value: number; from: PolicySource };
  timeoutMs: { value: number | null; from: PolicySource };
  maxCutOffs: { value: number; from: PolicySource };
}

/** The overrides a row carries (null: not given at enqueue). */
export interface PolicyOverrides {
  retries: number | null;
  backoffMs: number | null;
  timeoutMs: number | null;
}

export function explainPolicy(row: PolicyOverrides, handler: TaskPolicy | undefined, defaults: Policy = DEFAULT_POLICY): ExplainedPolicy {
  return {
    retries: pick(row.retries, handler?.retries, defaults.retries),
    backoffMs: pick(row.backoffMs, handler?.backoffMs, defaults.backoffMs),
    timeoutMs: pick(row.timeoutMs, handler?.timeoutMs, defaults.timeoutMs),
    maxCutOffs: pick(null, handler?.maxCutOffs, defaults.maxCutOffs),
  };
}

export function resolvePolicy(row: PolicyOverrides, handler: TaskPolicy | undefined, defaults: Policy = DEFAULT_POLICY): Policy {
  return {
    retries: row.retries ?? handler?.retries ?? defaults.retries,
    backoffMs: row.backoffMs ?? handler?.backoffMs ?? defaults.backoffMs,
    timeoutMs: row.timeoutMs ?? (handler?.timeoutMs === undefined ? defaults.timeoutMs : handler.timeoutMs),
    maxCutOffs: handler?.maxCutOffs ?? defaults.maxCutOffs,
  };
}

function pick<T>(given: T | null, declared: T | undefined, fallback: T): { value: T; from: PolicySource } {
  if (given !== null) return { value: given, from: 'task' };
  if (declared !== undefined) return { value: declared, from: 'handler' };
  return { value: fallback, from: 'default' };
}
