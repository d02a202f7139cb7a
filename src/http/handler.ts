/**
 * The daemon's HTTP surface as one request handler, which a program that embeds a Scheduler
 * can also mount in its own server: /healthz and /readyz (open), /metrics and the dashboard's
 * data (loopback without the token, else with it), the dashboard page (open: it holds no
 * data), and the JSON API under /api/v1 (the token always; off with no token configured).
 * See auth.ts for who may do what, and api.ts for the API.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { taskJson } from '../cli/lib/present.js';
import { systemClock, type Clock } from '../clock.js';
import { DelaydError, describe } from '../errors.js';
import { openStore } from '../store/open.js';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../scheduler.js';
import type { Store } from '../store/types.js';
import { handleApi, servedNow, type ApiContext } from './api.js';
import { accessOf } from './auth.js';
import { elapsed } from './cache.js';
import { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
import { OverviewSource } from './overview.js';
import { CSP, PAGE_CSS, PAGE_HTML } from './page.js';
import { sendError, sendJson, sendText } from './respond.js';
import { ReadThread, type ReadStore } from './read-thread.js';
import { Series } from './series.js';

export interface HttpHandlerOptions {
  /**
   * The store the scheduler uses (the API inserts rows and reads the dashboard's data through
   * it). @default the scheduler's own (`app.store`), unless `db` is given
   */
  store?: Store;
  /** The scheduler's `db` (a SQLite file or a store URL): the handler opens a store of its own on it, closed by close(). */
  db?: string;
  /**
   * Answer the dashboard's, the scrapes' and the API's reads from a worker thread with its own
   * read-only connection to this SQLite file (read-thread.ts), so that a read that scans the
   * tasks table never delays the scheduler. Only from the built package (dist/). @default the store itself
   */
  readThread?: { db: string; busyTimeoutMs?: number };
  /** The bearer token of the API and of remote reads; none: the API is off, reads are loopback only. */
  token?: string;
  clock?: Clock;
  logger?: Logger;
  /** Largest request body. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** Time a request body may take to arrive in full. @default 10000 */
  bodyTimeoutMs?: number;
  /** Serve /metrics (loads prom-client). @default true */
  metrics?: boolean;
  /** Node's default metrics (event loop lag, memory). @default true */
  defaultMetrics?: boolean;
  /** How prom-client is loaded. @default import('prom-client') */
  loadPromClient?: MetricsOptions['load'];
}

export interface HttpHandler {
  (request: IncomingMessage, response: ServerResponse): void;
  /** The metrics (their prom-client registry), when served. */
  readonly metrics: Metrics | undefined;
  /** Stops following the scheduler's events, and ends the read thread. */
  close(): Promise<void>;
}

/** /readyz: the ticker claimed within this long, and the store answered within READY_STORE_MS. */
export const READY_TICK_MS = 3000;
const READY_STORE_MS = 2000;

const SCRIPT = readFileSync(new URL('./dashboard.js', import.meta.url), 'utf8');

export async function createHttpHandler(app: Scheduler, options: HttpHandlerOptions): Promise<HttpHandler> {
  const clock = options.clock ?? systemClock;
  const { token, logger } = options;
  // The scheduler's own store unless told otherwise; a `db` alone opens one of ours.
  const owned = options.store || options.db === undefined ? undefined : openOwnStore(options.db);
  const store = options.store ?? owned ?? app.store;
  const series = new Series(clock);
  const thread = options.readThread ? new ReadThread(options.readThread) : undefined;
  const reads: ReadStore = thread ?? store;
  const overview = new OverviewSource(app, reads, clock, series);
  let metrics: Metrics | undefined;
  try {
    metrics = options.metrics === false ? undefined : await createMetrics(app, {
      clock,
      stats: () => overview.stats.get(),
      defaultMetrics: options.defaultMetrics,
      load: options.loadPromClient,
    });
  } catch (error) {
    await thread?.close();
    await owned?.close();
    throw error;
  }
  let lastClaimAt = Number.NEGATIVE_INFINITY;
  const listeners = {
    accepted: (e: { lateMs: number }) => series.started(e.lateMs),
    succeeded: () => series.ended('succeeded'),
    failed: () => series.ended('failed'),
    retrying: () => series.ended('retried'),
    claimed: (e: { second: number }) => {
      lastClaimAt = elapsed(clock);
      overview.claimed(e.second);
    },
  };
  for (const [event, listener] of Object.entries(listeners)) app.on(event, listener);
  const api: ApiContext = { app, store, reads, clock, body: { maxBytes: options.maxBodyBytes ?? 1 << 20, timeoutMs: options.bodyTimeoutMs ?? 10_000 } };

  const routes = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (path.startsWith('/api/v1/') || path === '/api/v1') {
      if (token === undefined) throw new DelaydError('E_UNAUTHORIZED', 'The API is off: the daemon has no token (set $DELAYD_HTTP_TOKEN or --http-token-file to turn it on)');
      if (accessOf(request, token) !== 'token') throw unauthorized(request);
      return handleApi(api, request, response, path.slice('/api/v1'.length), url);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return sendJson(response, 405, { error: { code: 'E_USAGE', message: `Expected GET for ${path}, got ${method}` } }, { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/healthz':
        return sendJson(response, 200, { status: 'ok' });
      case '/readyz':
        return sendReady(response, await readiness(store, app, clock, lastClaimAt));
      case '/':
        return sendText(response, 200, 'text/html; charset=utf-8', PAGE_HTML, { 'content-security-policy': CSP, 'x-frame-options': 'DENY' });
      case '/dashboard.js':
        return sendText(response, 200, 'text/javascript; charset=utf-8', SCRIPT);
      case '/dashboard.css':
        return sendText(response, 200, 'text/css; charset=utf-8', PAGE_CSS);
    }
    // Everything below reads data: loopback, or the token.
    const access = accessOf(request, token);
    if (access === 'none') throw unauthorized(request);
    if (path === '/metrics') {
      if (!metrics) throw new DelaydError('E_NOT_FOUND', 'Metrics are off in this server');
      return sendText(response, 200, metrics.contentType, await metrics.text());
    }
    if (path === '/dashboard/overview') return sendJson(response, 200, await overview.read());
    const detail = /^\/dashboard\/tasks\/(\d{1,15})$/.exec(path);
    if (detail) {
      const row = await reads.get(Number(detail[1]));
      if (!row) throw new DelaydError('E_NOT_FOUND', `No task with id ${detail[1]}`);
      return sendJson(response, 200, taskJson(row, await servedNow({ reads, clock })));
    }
    throw new DelaydError('E_NOT_FOUND', `Nothing at ${path}`);
  };

  const handler = ((request: IncomingMessage, response: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://delayd.invalid');
    } catch {
      return sendError(response, new DelaydError('E_USAGE', 'Expected a request path, got none that parses'));
    }
    routes(request, response, url).catch((error: unknown) => {
      const internal = !(error instanceof DelaydError);
      if (internal || !error.code.startsWith('E_BAD')) logger?.[internal ? 'error' : 'warn']({ err: error, method: request.method, path: url.pathname }, 'http request failed');
      if (response.headersSent) return response.destroy();
      sendError(response, error);
    });
  }) as HttpHandler;
  Object.defineProperty(handler, 'metrics', { value: metrics });
  handler.close = async () => {
    metrics?.close();
    for (const [event, listener] of Object.entries(listeners)) app.off(event, listener);
    await thread?.close();
    await owned?.close();
  };
  return handler;
}

function openOwnStore(db: string | undefined): Store {
  if (db === undefined || db === ':memory:' || db === '') {
    throw new DelaydError('E_BAD_OPTION', `Expected \`store\` (the scheduler's) or \`db\` (a file or URL another connection can open), got ${db === undefined ? 'neither' : describe(db)}`);
  }
  return openStore({ db });
}

function unauthorized(request: IncomingMessage): DelaydError {
  const given = request.headers.authorization !== undefined;
  return new DelaydError(
    'E_UNAUTHORIZED',
    given
      ? 'Expected `Authorization: Bearer TOKEN` with the daemon\'s token, got another token'
      : 'Expected `Authorization: Bearer TOKEN` (every action, and every read from another host, needs the daemon\'s token), got none',
  );
}

interface Readiness {
  ready: boolean;
  store: string;
  lastClaimMsAgo: number | null;
}

async function readiness(store: Store, app: Scheduler, clock: Clock, lastClaimAt: number): Promise<Readiness> {
  let storeState = 'ok';
  let timer: unknown;
  try {
    await Promise.race([
      store.workers(),
      new Promise((_, reject) => (timer = clock.setTimeout(() => reject(new DelaydError('E_BACKEND_UNAVAILABLE', 'no answer')), READY_STORE_MS))),
    ]);
  } catch (error) {
    storeState = error instanceof DelaydError ? error.code : 'error';
  } finally {
    clock.clearTimeout(timer);
  }
  const ago = lastClaimAt === Number.NEGATIVE_INFINITY ? null : Math.round(elapsed(clock) - lastClaimAt);
  // A full pool claims nothing until it has room: busy, not stuck.
  const ticking = (ago !== null && ago <= READY_TICK_MS) || (app.running && app.runningTasks().length > 0 && ago !== null);
  return { ready: storeState === 'ok' && app.running && ticking, store: storeState, lastClaimMsAgo: ago };
}

function sendReady(response: ServerResponse, r: Readiness): void {
  sendJson(response, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', store: r.store, lastClaimMsAgo: r.lastClaimMsAgo });
}
