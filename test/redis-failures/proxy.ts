/**
 * A small TCP proxy owned by a test, between a daemon and Redis on loopback, that can
 *   reset()  end every open connection with a TCP RST (the daemon sees ECONNRESET), and
 *   freeze() stop forwarding in both directions while keeping every socket open (the
 *            "zombie socket": no error, no FIN, just silence; new connections are accepted
 *            and held silent too), until thaw() forwards what was held back, in order;
 *   zombie() freeze only the connections open now, for good (a NAT or load balancer that
 *            forgot their flows): new connections are forwarded.
 * Bytes are never dropped while frozen, only held, so a thaw replays the conversation as a
 * slow network would; a reset is the only loss, and it is the one the client must notice.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Chunks held while frozen, per direction. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #server: Server | undefined;
  #frozen = false;
  /** Pairs silenced by zombie(): never forwarded again. */
  readonly #zombies = new Set<Pair>();
  port = 0;
  /** Connections accepted so far (a reconnecting client makes more). */
  accepted = 0;

  constructor(targetPort: number, targetHost = '127.0.0.1') {
    this.#target = { host: targetHost, port: targetPort };
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  get open(): number {
    return this.#pairs.size;
  }

  async listen(port = 0): Promise<this> {
    this.#server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  /** Every open connection ends with an RST, on both sides. Later connections work. */
  reset(): void {
    for (const pair of [...this.#pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
      this.#pairs.delete(pair);
    }
  }

  freeze(): void {
    this.#frozen = true;
  }

  zombie(): void {
    for (const pair of this.#pairs) this.#zombies.add(pair);
  }

  /** Forwards what was held, in order, and resumes forwarding. */
  thaw(): void {
    this.#frozen = false;
    for (const pair of this.#pairs) {
      for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      // A side that closed while frozen: its close is delivered now.
      if (pair.client.destroyed || pair.upstream.destroyed) {
        this.#pairs.delete(pair);
        pair.client.destroy();
        pair.upstream.destroy();
      }
    }
  }

  async close(): Promise<void> {
    this.reset();
    if (!this.#server) return;
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
    this.#server = undefined;
  }

  #accept(client: Socket): void {
    this.accepted++;
    const upstream = connect(this.#target);
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] };
    this.#pairs.add(pair);
    const drop = () => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    const held = () => this.#frozen || this.#zombies.has(pair);
    client.on('data', (chunk) => (held() ? pair.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk) => (held() ? pair.toClient.push(chunk) : client.write(chunk)));
    // While frozen even a close is held back: the other side must not learn anything.
    client.on('close', () => (held() ? undefined : drop()));
    upstream.on('close', () => (held() ? undefined : drop()));
    client.on('error', () => {});
    upstream.on('error', () => {});
  }
}
