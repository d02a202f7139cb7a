/**
 * Handler args to JSON text, refusing what JSON would silently change or drop (functions,
 * BigInt, NaN, cycles, class instances) and what is over the size limit.
 */
import { DelaydError, describe } from './errors.js';

/**
 * Serialises handler args, refusing what JSON would silently change or drop. Runs once per
 * task, so the common case stays cheap: a quick walk that builds no paths, and a byte count
 * only when the JSON could be over the limit.
 */
export function serializeArgs(args: unknown, maxBytes: number): string {
  if (!Array.isArray(args)) {
    throw new DelaydError('E_BAD_ARGS', `Expected \`args\` to be an array, got ${describe(args)}`);
  }
  // The quick walk says "fine" or "look closer"; the full check finds what is wrong and where.
  if (!isPlainJson(args, 0)) checkJsonValue(args, 'args', new Set());
  const json = JSON.stringify(args);
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so short JSON cannot be over the limit.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) {
      throw new DelaydError(
        'E_ARGS_TOO_LARGE',
        `Expected \`args\` to serialise to at most ${maxBytes} bytes of JSON, got ${bytes} bytes`,
      );
    }
  }
  return json;
}

/** Nesting the quick walk follows; deeper values (and cycles, which never end) go to the full check. */
const QUICK_DEPTH = 32;

/**
 * True when `value` is certainly what checkJsonValue accepts; false when it may not be. It
 * keeps no set of seen objects and builds no paths, which is most of the full check's cost.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= QUICK_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) if (!isPlainJson(record[key], depth + 1)) return false;
  return true;
}

function checkJsonValue(value: unknown, path: string, seen: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw badArg(path, `a finite number`, value);
  }
  if (typeof value !== 'object') throw badArg(path, 'a JSON value', value);
  if (seen.has(value)) throw new DelaydError('E_BAD_ARGS', `Expected \`args\` to be JSON-serialisable, got a circular reference at ${path}`);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    throw badArg(path, 'a plain object, array, string, finite number, boolean or null', value);
  }
  seen.add(value);
  if (Array.isArray(value)) value.forEach((item, i) => checkJsonValue(item, `${path}[${i}]`, seen));
  else for (const [k, v] of Object.entries(value)) checkJsonValue(v, `${path}.${k}`, seen);
  seen.delete(value);
}

function badArg(path: string, expected: string, value: unknown): DelaydError {
  return new DelaydError('E_BAD_ARGS', `Expected ${path} to be ${expected}, got ${describe(value)}`);
}
