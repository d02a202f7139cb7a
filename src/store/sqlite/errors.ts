/**
 * Maps errors of SQLite and of better-sqlite3 to delayd's codes, keeping the original as
 * `cause`, so that no database error reaches a user as an "unexpected error" (a bug).
 */
import { DelaydError, type DelaydErrorCode } from '../../errors.js';

const BY_PREFIX: [string, DelaydErrorCode, string][] = [
  ['SQLITE_BUSY', 'E_DB_LOCKED', 'the database is locked by another process past the busy timeout'],
  ['SQLITE_LOCKED', 'E_DB_LOCKED', 'the database is locked'],
  ['SQLITE_READONLY', 'E_DB_READONLY', 'the database is read-only'],
  ['SQLITE_FULL', 'E_DB_FULL', 'the disk or database is full'],
  ['SQLITE_NOTADB', 'E_DB_NOT_SQLITE', 'the file is not an SQLite database'],
  ['SQLITE_CORRUPT', 'E_DB_CORRUPT', 'the database file is corrupt'],
  ['SQLITE_CANTOPEN', 'E_DB_MISSING', 'the database file cannot be opened'],
  ['SQLITE_PERM', 'E_DB_READONLY', 'permission to the database file is denied'],
  ['SQLITE_AUTH', 'E_DB_READONLY', 'access to the database is denied'],
  ['SQLITE_IOERR', 'E_DB', 'a disk I/O error on the database'],
  ['SQLITE_NOMEM', 'E_DB', 'SQLite ran out of memory'],
  ['SQLITE_TOOBIG', 'E_ARGS_TOO_LARGE', 'a value is too large for the database'],
  ['SQLITE_CONSTRAINT', 'E_DB', 'a value the database refuses'],
  ['SQLITE_MISMATCH', 'E_DB', 'a value of the wrong type for the database'],
  ['SQLITE_RANGE', 'E_DB', 'a value the database cannot bind'],
];

/** better-sqlite3's own errors (TypeError, RangeError), which carry no SQLite code. */
const DRIVER_ERRORS: [RegExp, DelaydErrorCode, string][] = [
  [/directory does not exist/i, 'E_DB_MISSING', 'the directory of the database file does not exist'],
  [/connection is not open/i, 'E_DB', 'the database connection is closed'],
  [/connection is busy/i, 'E_DB', 'the database connection is busy with another statement'],
  [/too large to be represented|integer.*(range|large)|BigInt/i, 'E_DB', 'a number out of range for the database'],
  [/can only bind|cannot be bound|bind parameters|Too (many|few) parameter/i, 'E_DB', 'a value the database cannot bind'],
];

export function toDelaydError(error: unknown, path: string): unknown {
  if (error instanceof DelaydError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = (error as Error | null)?.message ?? String(error);
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    const match = BY_PREFIX.find(([prefix]) => code.startsWith(prefix));
    const [delaydCode, what] = match ? [match[1], match[2]] : (['E_DB', 'a database error'] as const);
    return new DelaydError(delaydCode, `${path}: ${what} (${code}: ${detail})`, { cause: error });
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    const driver = DRIVER_ERRORS.find(([pattern]) => pattern.test(detail));
    if (driver) return new DelaydError(driver[1], `${path}: ${driver[2]} (${detail})`, { cause: error });
  }
  return error; // not the database's: a bug, reported as one
}
