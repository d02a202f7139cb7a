/**
 * Request bodies, bounded in size and in time: a body longer than `maxBytes` is refused as soon
 * as its length is known (from Content-Length, else while it streams), and one that does not
 * arrive in full within `timeoutMs` (a slow or stalled client) is refused too, so a client
 * cannot hold the daemon's memory or a socket for long.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { DelaydError } from '../errors.js';

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
}

export function readBody(request: IncomingMessage, limits: BodyLimits, clock: Clock): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) return Promise.reject(tooLarge(limits.maxBytes, `${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = clock.setTimeout(() => finish(new DelaydError('E_BODY_TIMEOUT', `Expected the request body within ${limits.timeoutMs} ms, got ${size} bytes by then`)), limits.timeoutMs);
    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      request.off('data', onData);
      if (error) {
        request.resume(); // drain (and discard) the rest, so the answer can be read
        reject(error);
      } else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes, `more than ${limits.maxBytes}`));
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => finish(undefined));
    request.once('error', (error) => finish(error));
    request.once('close', () => finish(new DelaydError('E_BODY_TIMEOUT', 'The client closed the connection before the request body was complete')));
  });
}

function tooLarge(max: number, got: string): DelaydError {
  return new DelaydError('E_BODY_TOO_LARGE', `Expected a request body of at most ${max} bytes, got ${got} bytes`);
}
