/**
 * What is kept of a failed attempt and of a handler's result. A handler may throw anything
 * (null, a Symbol, an object whose toString throws) and return anything: nothing here may
 * throw on such a value, and nothing but JSON is ever stored as a result.
 */
import { DelaydError, RetryLater } from './errors.js';
import type { ErrorInfo } from './store/types.js';

/** The code, message and stack of whatever a handler threw; never throws. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof RetryLater) {
    const message = safe(() => error.message, 'retry requested');
    return { code: null, message, stack: `RetryLater: ${message}` };
  }
  if (error instanceof Error) {
    const message = safe(() => String(error.message), '(a message that cannot be read)');
    const stack = safe(() => error.stack, undefined) ?? `${safe(() => error.name, 'Error')}: ${message}`;
    return { code: ownCode(error), message, stack: String(stack) };
  }
  if (error !== null && typeof error === 'object') {
    const message = plainMessage(error);
    return { code: ownCode(error), message, stack: `Non-error thrown: ${message}` };
  }
  const message = safe(() => (typeof error === 'symbol' ? error.toString() : String(error)), typeof error);
  return { code: null, message, stack: `Non-error thrown: ${message}` };
}

/** The stack (or text) of a thrown value: what `lastError` shows. */
export function errorText(error: unknown): string {
  return errorInfo(error).stack;
}

/** A DelaydError's code, or the value's own string `code` (as Node's system errors have). */
function ownCode(error: object): string | null {
  if (error instanceof DelaydError) return error.code;
  const code = safe(() => (error as { code?: unknown }).code, undefined);
  return typeof code === 'string' && code !== '' ? code : null;
}

/** A thrown plain object: its own `message` when it has one, else its JSON. */
function plainMessage(error: object): string {
  const message = safe(() => (error as { message?: unknown }).message, undefined);
  if (typeof message === 'string') return message;
  const json = safe(() => JSON.stringify(error), undefined);
  if (typeof json === 'string' && json !== '{}') return json;
  return safe(() => String(error), 'an object that cannot be shown');
}

function safe<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * The result as JSON text (undefined: null). A value JSON would change rather than keep
 * (NaN, a BigInt, a function, a Symbol, a cycle) fails the attempt with E_BAD_RESULT, as
 * args do at enqueue, rather than being stored as something else under `succeeded`.
 * `undefined` inside an array or as a property is what JSON makes of it (null, or left out).
 */
export function resultJson(result: unknown): string | null {
  if (result === undefined) return null;
  if (result === null || typeof result === 'string' || typeof result === 'boolean') return JSON.stringify(result);
  if (typeof result === 'number' && Number.isFinite(result)) return String(result);
  let json: string | undefined;
  try {
    json = JSON.stringify(result, refuseNonJson);
  } catch (error) {
    if (error instanceof DelaydError) throw error;
    const why = safe(() => (error as Error).message, 'it cannot be serialised');
    throw badResult(`a value JSON cannot hold (${why})`);
  }
  if (json === undefined) throw badResult(describeResult(result));
  return json;
}

function refuseNonJson(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw badResult(describeResult(value));
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') throw badResult(describeResult(value));
  return value;
}

function describeResult(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a Symbol';
  if (typeof value === 'bigint') return `a BigInt (${value}n)`;
  return `\`${String(value)}\` (${typeof value})`;
}

function badResult(got: string): DelaydError {
  return new DelaydError('E_BAD_RESULT', `Expected the handler's result to be JSON-serialisable, got ${got}`);
}
