/**
 * Store health as the scheduler sees it: every failed store call is told (the 'storeError'
 * event, for metrics), and errors that no retry mends (a corrupt file) are counted per kind of
 * call. After FATAL_AFTER of them in a row the scheduler is told it cannot go on ('fatal'); a
 * success of the same kind resets the count, since a heartbeat may still write while every
 * claim reads a corrupt page.
 */
const FATAL_CODES = new Set(['E_DB_CORRUPT', 'E_DB_NOT_SQLITE', 'E_DB_NOT_DELAYD', 'E_DB_NEWER_SCHEMA']);
const FATAL_AFTER = 5;

export interface HealthOptions {
  onError: (kind: string, code: string | null) => void;
  onFatal: (error: unknown, kind: string) => void;
}

export class StoreHealth {
  readonly #o: HealthOptions;
  readonly #fatal = new Map<string, number>();

  constructor(options: HealthOptions) {
    this.#o = options;
  }

  /** A store call of this kind (claim, heartbeat, write, start) failed with `error`, or passed (null). */
  result(kind: string, error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    if (error !== null) this.#o.onError(kind, typeof code === 'string' ? code : null);
    if (error === null || typeof code !== 'string' || !FATAL_CODES.has(code)) {
      this.#fatal.delete(kind);
      return;
    }
    const count = (this.#fatal.get(kind) ?? 0) + 1;
    this.#fatal.set(kind, count);
    if (count === FATAL_AFTER) this.#o.onFatal(error, kind);
  }
}
