/**
 * Where the daemon's HTTP server listens and with which token: `--http HOST:PORT` (a bare port
 * means 127.0.0.1), the token from `--http-token-file` or else $DELAYD_HTTP_TOKEN. Binding an
 * address other than loopback without a token is refused here, before anything starts: its
 * metrics and dashboard would be open to whoever reaches the port.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DelaydError, describe } from '../errors.js';

export interface HttpListen {
  host: string;
  port: number;
  /** The bearer token the API and every remote read need; undefined: the API is off. */
  token: string | undefined;
}

/** A token shorter than this is refused: it could be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** `7070`, `127.0.0.1:7070`, `[::1]:7070`, `0.0.0.0:7070`, `localhost:7070`. Port 0 picks a free port. */
export function parseHttpAddress(raw: string): { host: string; port: number } {
  const text = raw.trim();
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`--http\` to be PORT or HOST:PORT (such as 127.0.0.1:7070 or [::1]:7070), got ${describe(raw)}`);
  }
  const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  if (host !== 'localhost' && isIP(host) === 0 && !/^[a-zA-Z0-9.-]+$/.test(host)) {
    throw new DelaydError('E_BAD_OPTION', `Expected the host of \`--http\` to be an IP address or a host name, got ${describe(host)}`);
  }
  return { host, port };
}

/** Whether an address (a bind host or a peer's address) is this machine's loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.replace(/^::ffff:/, '');
  return a === 'localhost' || a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** The token text: from the file (flag) before the environment; surrounding whitespace and a final newline dropped. */
export function loadToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  let token: string | undefined;
  let what: string;
  if (file !== undefined) {
    what = `the file of --http-token-file (${file})`;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new DelaydError('E_BAD_OPTION', `Expected \`--http-token-file\` to be a readable file, got ${describe(file)}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    what = '$DELAYD_HTTP_TOKEN';
    token = env.DELAYD_HTTP_TOKEN?.trim();
    if (token === '') token = undefined;
  }
  if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))) {
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to hold a token of at least ${MIN_TOKEN_LENGTH} characters without spaces, got one of ${token.length} characters`);
  }
  return token;
}

/** `--http` and its token, checked; undefined when the server is off. */
export function toHttpListen(raw: string | undefined, tokenFile: string | undefined, env: NodeJS.ProcessEnv): HttpListen | undefined {
  if (raw === undefined) {
    if (tokenFile !== undefined) throw new DelaydError('E_BAD_OPTION', 'Expected `--http HOST:PORT` beside `--http-token-file`, got none: the token is for the HTTP server');
    return undefined;
  }
  const { host, port } = parseHttpAddress(raw);
  const token = loadToken(tokenFile, env);
  if (token === undefined && !isLoopback(host)) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Refusing to serve HTTP on ${host}:${port}, which is not a loopback address, without a token: set $DELAYD_HTTP_TOKEN or --http-token-file (every remote request must then carry it), or bind 127.0.0.1`,
    );
  }
  return { host, port, token };
}
