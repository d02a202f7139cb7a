/**
 * Answers: JSON bodies, and errors as { "error": { "code", "message" } } with the code and the
 * message the library raises, under the HTTP status that says what kind of failure it is.
 */
import type { ServerResponse } from 'node:http';
import { DelaydError } from '../errors.js';

const STATUS: Record<string, number> = {
  E_BAD_ARGS: 400,
  E_ARGS_TOO_LARGE: 400,
  E_BAD_COUNTDOWN: 400,
  E_BAD_ETA: 400,
  E_BAD_OPTION: 400,
  E_UNKNOWN_OPTION: 400,
  E_BAD_NAME: 400,
  E_USAGE: 400,
  E_UNAUTHORIZED: 401,
  E_NOT_FOUND: 404,
  E_BODY_TIMEOUT: 408,
  E_BAD_STATE: 409,
  E_BODY_TOO_LARGE: 413,
  E_STOPPED: 503,
};

/** The status of a DelaydError: store and backend failures are 503 (try again later), the unknown 500. */
export function statusOf(error: unknown): number {
  if (!(error instanceof DelaydError)) return 500;
  const known = STATUS[error.code];
  if (known !== undefined) return known;
  return error.code.startsWith('E_DB') || error.code.startsWith('E_BACKEND') ? 503 : 500;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export function sendText(response: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** An error as JSON; `internal` (a bug or a driver's error) is said without its details, which go to the log. */
export function sendError(response: ServerResponse, error: unknown): void {
  const status = statusOf(error);
  const code = error instanceof DelaydError ? error.code : 'E_INTERNAL';
  const message = error instanceof DelaydError ? error.message : 'Internal error (see the daemon log)';
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Bearer realm="delayd"' } : {};
  // A refused body may still be arriving: close the connection rather than read it.
  if (status === 413 || status === 408) headers.connection = 'close';
  sendJson(response, status, { error: { code, message } }, headers);
}
