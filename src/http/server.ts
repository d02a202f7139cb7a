/**
 * The daemon's HTTP server: node:http around createHttpHandler (handler.ts), with bounds on
 * what a client may hold: headers within 10 s, a whole request within 30 s, idle keep-alive
 * sockets closed after 5 s, at most 256 connections.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DelaydError } from '../errors.js';
import type { Scheduler } from '../scheduler.js';
import { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from './handler.js';

export interface HttpServerOptions extends HttpHandlerOptions {
  host: string;
  /** 0 picks a free port (see `port` on the result). */
  port: number;
}

export interface HttpServer {
  readonly server: Server;
  readonly handler: HttpHandler;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Stops accepting, closes idle and (after `graceMs`) all connections, and stops following events. */
  close(graceMs?: number): Promise<void>;
}

export async function startHttpServer(app: Scheduler, options: HttpServerOptions): Promise<HttpServer> {
  const handler = await createHttpHandler(app, options);
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5000 }, handler);
  server.maxConnections = 256;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await handler.close();
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new DelaydError('E_HTTP_LISTEN', `Could not listen for HTTP on ${options.host}:${options.port}: ${why}`, { cause: error });
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    handler,
    host: options.host,
    port,
    url: `http://${host}:${port}`,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }).then(() => handler.close()),
  };
}
