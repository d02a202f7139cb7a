/** Maps SQLite's error codes to delayd's, keeping the SqliteError as `cause`. */
import { DelaydError, type DelaydErrorCode } from '../errors.js';

const BY_PREFIX: [string, DelaydErrorCode, string][] = [
  ['SQLITE_BUSY', 'E_DB_LOCKED', 'the database is locked by another process past the busy timeout'],
  ['SQLITE_LOCKED', 'E_DB_LOCKED', 'the database is locked'],
  ['SQLITE_READONLY', 'E_DB_READONLY', 'the database is read-only'],
  ['SQLITE_FULL', 'E_DB_FULL', 'the disk or database is full'],
  ['SQLITE_NOTADB', 'E_DB_NOT_SQLITE', 'the file is not an SQLite database'],
  ['SQLITE_CORRUPT', 'E_DB_CORRUPT', 'the database file is corrupt'],
  ['SQLITE_CANTOPEN', 'E_DB_MISSING', 'the database file cannot be opened'],
];

export function toDelaydError(error: unknown, path: string): unknown {
  if (error instanceof DelaydError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const match = BY_PREFIX.find(([prefix]) => code.startsWith(prefix));
  const [delaydCode, what] = match ? [match[1], match[2]] : (['E_DB', 'a database error'] as const);
  const detail = (error as Error).message;
  return new DelaydError(delaydCode, `${path}: ${what} (${code}: ${detail})`, { cause: error });
}
