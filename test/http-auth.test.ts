/**
 * Who may do what over HTTP: the API needs the token (none, a wrong one, one of another
 * length: 401 and nothing done), reads without it only from loopback and not through a proxy
 * or under another Host, no API without a configured token, and no non-loopback bind without
 * one. Bodies are bounded in time as well as in size.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf, tokenMatches } from '../src/http/auth.js';
import { createHttpHandler } from '../src/http/handler.js';
import { parseHttpAddress, toHttpListen } from '../src/http/options.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { createTestScheduler } from '../src/testing.js';
import { cli, type Daemon, HANDLERS, tempDir } from './fixtures/cli.js';
import { httpDaemon, TOKEN, tokenFile } from './http-lib.js';

/** A request with exactly these headers (fetch would not let a test set Host). */
function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers: { host: `${hostname}:${port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rows(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    return JSON.stringify(conn.prepare('SELECT * FROM tasks ORDER BY id').all());
  } finally {
    conn.close();
  }
}

describe('a daemon with a token', () => {
  let tmp: ReturnType<typeof tempDir>;
  let daemon: Daemon;
  let url: string;
  beforeAll(async () => {
    tmp = tempDir();
    ({ daemon, url } = await httpDaemon(tmp.db, ['--http', '127.0.0.1:0', '--http-token-file', tokenFile(tmp.dir)]));
  }, 30_000);
  afterAll(async () => {
    await daemon?.stop();
    tmp?.remove();
  });

  it('refuses an action without the right token with 401, and does nothing', async () => {
    const made = await raw(url, 'POST', '/api/v1/tasks', { authorization: `Bearer ${TOKEN}` }, JSON.stringify({ name: 'slow', args: [1], countdown: 600 }));
    expect(made.status).toBe(201);
    const id = made.body.id as number;
    const before = rows(tmp.db);
    const tokens: [string, Record<string, string>][] = [
      ['none', {}],
      ['wrong, same length', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
      ['shorter', { authorization: `Bearer ${TOKEN.slice(0, -3)}` }],
      ['longer', { authorization: `Bearer ${TOKEN}0` }],
      ['empty', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
    ];
    for (const [what, headers] of tokens) {
      for (const [method, path, body] of [
        ['POST', '/api/v1/tasks', JSON.stringify({ name: 'fast' })],
        ['POST', `/api/v1/tasks/${id}/cancel`, undefined],
        ['POST', '/api/v1/tasks/bulk', JSON.stringify([{ name: 'fast' }])],
        ['GET', `/api/v1/tasks/${id}`, undefined],
      ] as const) {
        const answer = await raw(url, method, path, headers, body);
        expect({ what, path, status: answer.status, code: answer.body.error?.code }).toEqual({ what, path, status: 401, code: 'E_UNAUTHORIZED' });
      }
    }
    // Never from a URL.
    expect((await raw(url, 'POST', `/api/v1/tasks/${id}/cancel?token=${TOKEN}`)).status).toBe(401);
    expect(rows(tmp.db)).toBe(before);
    expect((await raw(url, 'POST', `/api/v1/tasks/${id}/cancel`, { authorization: `bearer ${TOKEN}` })).body).toMatchObject({ id, state: 'cancelled' });
  });

  it('serves metrics and the dashboard\'s reads to loopback without the token, but not through a proxy or under another Host', async () => {
    expect((await raw(url, 'GET', '/metrics')).status).toBe(200);
    expect((await raw(url, 'GET', '/dashboard/overview')).status).toBe(200);
    expect((await raw(url, 'GET', '/metrics', { host: `localhost:${new URL(url).port}` })).status).toBe(200);
    for (const headers of [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { host: 'evil.example' }, { host: 'evil.example:80' }] as Record<string, string>[]) {
      expect((await raw(url, 'GET', '/dashboard/overview', headers)).status).toBe(401);
      expect((await raw(url, 'GET', '/metrics', headers)).status).toBe(401);
      expect((await raw(url, 'GET', '/metrics', { ...headers, authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    }
    // A wrong token is refused even from loopback.
    expect((await raw(url, 'GET', '/metrics', { authorization: 'Bearer nope-nope-nope-nope' })).status).toBe(401);
    // Health and the page (no data in it) are open; the page forbids inline script.
    expect((await raw(url, 'GET', '/healthz', { host: 'evil.example' })).status).toBe(200);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).not.toContain(TOKEN);
  });
});

describe('a daemon without a token', () => {
  it('keeps the API off (401 saying so) and serves reads to loopback', async () => {
    const tmp = tempDir();
    const { daemon, url } = await httpDaemon(tmp.db, ['--http', '0']);
    try {
      const answer = await raw(url, 'POST', '/api/v1/tasks', {}, JSON.stringify({ name: 'fast' }));
      expect(answer).toMatchObject({ status: 401, body: { error: { code: 'E_UNAUTHORIZED', message: expect.stringContaining('The API is off') } } });
      expect((await raw(url, 'GET', '/api/v1/stats', { authorization: `Bearer ${TOKEN}` })).status).toBe(401);
      expect((await raw(url, 'GET', '/metrics')).status).toBe(200);
      expect(rows(tmp.db)).toBe('[]');
    } finally {
      await daemon.stop();
      tmp.remove();
    }
  }, 30_000);

  it('is refused at start when binding a non-loopback address', async () => {
    const tmp = tempDir();
    try {
      for (const address of ['0.0.0.0:0', '[::]:0', '192.0.2.1:7070']) {
        const result = await cli(['daemon', '--db', tmp.db, '--handlers', HANDLERS, '--http', address]);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('E_BAD_OPTION');
        expect(result.stderr).toContain('not a loopback address, without a token');
      }
      expect(existsSync(tmp.db)).toBe(false);
    } finally {
      tmp.remove();
    }
  });

  it('refuses a short token, a token file without --http, and a bad address', async () => {
    const tmp = tempDir();
    try {
      const short = await cli(['daemon', '--db', tmp.db, '--handlers', HANDLERS, '--http', '0', '--http-token-file', tokenFile(tmp.dir, 'short')]);
      expect(short).toMatchObject({ code: 1, stderr: expect.stringContaining('at least 16 characters') });
      const missing = await cli(['daemon', '--db', tmp.db, '--handlers', HANDLERS, '--http', '0', '--http-token-file', join(tmp.dir, 'none')]);
      expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('--http-token-file') });
      const alone = await cli(['daemon', '--db', tmp.db, '--handlers', HANDLERS, '--http-token-file', tokenFile(tmp.dir)]);
      expect(alone).toMatchObject({ code: 1, stderr: expect.stringContaining('beside `--http-token-file`') });
      expect(existsSync(tmp.db)).toBe(false);
    } finally {
      tmp.remove();
    }
    expect(() => parseHttpAddress('localhost')).toThrow(/PORT or HOST:PORT/);
    expect(() => parseHttpAddress('1.2.3.4:70000')).toThrow(/PORT or HOST:PORT/);
    expect(parseHttpAddress('7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseHttpAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(toHttpListen('0.0.0.0:1', undefined, { DELAYD_HTTP_TOKEN: TOKEN })).toEqual({ host: '0.0.0.0', port: 1, token: TOKEN });
    expect(toHttpListen('1', undefined, { DELAYD_HTTP_TOKEN: '  ' })).toEqual({ host: '127.0.0.1', port: 1, token: undefined });
  });
});

describe('the token check', () => {
  it('matches only the same token, whatever the lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
  });

  it('treats a remote peer as remote, with or without a local Host header', () => {
    const req = (remoteAddress: string, headers: Record<string, string>) => ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;
    expect(accessOf(req('10.0.0.5', { host: '127.0.0.1:7070' }), TOKEN)).toBe('none');
    expect(accessOf(req('10.0.0.5', { host: '127.0.0.1', authorization: `Bearer ${TOKEN}` }), TOKEN)).toBe('token');
    expect(accessOf(req('::ffff:127.0.0.1', { host: '127.0.0.1:7070' }), TOKEN)).toBe('local');
    expect(accessOf(req('::1', { host: '[::1]:7070' }), undefined)).toBe('local');
  });
});

describe('request bodies', () => {
  it('must arrive within the time limit: 408, and nothing written', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const t = createTestScheduler({ asDefault: false, store });
    const handler = await createHttpHandler(t.scheduler, { store, token: TOKEN, bodyTimeoutMs: 200, metrics: false });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(`POST /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100\r\n\r\n{"name":`);
        });
        let text = '';
        socket.setEncoding('utf8').on('data', (c: string) => (text += c)).on('close', () => resolve(text)).on('error', reject);
        setTimeout(() => socket.destroy(), 5000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('"code":"E_BODY_TIMEOUT"');
      expect(await store.list({})).toEqual([]);
    } finally {
      server.close();
      await handler.close();
      await t.close();
      await store.close();
    }
  });
});
