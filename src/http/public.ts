/**
 * What src/index.ts exports of the HTTP server, loaded on first use: `import 'delayd'` does not
 * pay for the server, the dashboard or prom-client unless a program asks for them.
 */
import { systemClock } from '../clock.js';
import type { Scheduler } from '../scheduler.js';
import type { HttpHandler, HttpHandlerOptions } from './handler.js';
import type { Metrics } from './metrics.js';
import type { HttpServer, HttpServerOptions } from './server.js';

export type { HttpHandler, HttpHandlerOptions, HttpServer, HttpServerOptions, Metrics };
export type { MetricsRegistry } from './metrics.js';

/** A request handler (req, res) to mount in your own node:http server or framework. */
export async function createHttpHandler(app: Scheduler, options: HttpHandlerOptions): Promise<HttpHandler> {
  return (await import('./handler.js')).createHttpHandler(app, options);
}

/** The daemon's server on host:port, around createHttpHandler. */
export async function startHttpServer(app: Scheduler, options: HttpServerOptions): Promise<HttpServer> {
  return (await import('./server.js')).startHttpServer(app, options);
}

/**
 * The scheduler's metrics alone: `(await metrics(app)).registry` is a prom-client Registry to
 * merge into yours, `text()` the exposition. Counts by state come from app.stats(), at most once a second.
 */
export async function metrics(app: Scheduler, options: { defaultMetrics?: boolean } = {}): Promise<Metrics> {
  const [{ createMetrics }, { Cached }] = await Promise.all([import('./metrics.js'), import('./cache.js')]);
  const stats = new Cached(() => app.stats(), systemClock, 1000);
  return createMetrics(app, { clock: systemClock, stats: () => stats.get(), defaultMetrics: options.defaultMetrics });
}
