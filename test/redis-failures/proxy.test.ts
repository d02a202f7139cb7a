/** The test proxy itself: forwards, holds everything while frozen and replays it on thaw, resets with an RST. */
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, stopAllRedis } from '../redis/servers.js';
import { TcpProxy } from './proxy.js';

afterAll(stopAllRedis);

function client(port: number): Promise<{ sock: Socket; said: () => string; errors: Error[] }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const errors: Error[] = [];
    sock.on('data', (d) => (got += d));
    sock.on('error', (e) => errors.push(e));
    sock.once('connect', () => resolve({ sock, said: () => got, errors }));
    sock.once('error', reject);
  });
}

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('TcpProxy', () => {
  it('forwards, holds while frozen, replays on thaw, and resets with ECONNRESET', async () => {
    const redis = await startRedis();
    const proxy = await new TcpProxy(redis.port).listen();
    const c = await client(proxy.port);
    c.sock.write('PING\r\n');
    await until('PONG', () => c.said().includes('+PONG'));
    proxy.freeze();
    c.sock.write('ECHO held\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.said()).not.toContain('held');
    proxy.thaw();
    await until('the held reply', () => c.said().includes('held'));
    proxy.reset();
    await until('the reset to reach the client', () => c.errors.length > 0 || c.sock.destroyed);
    expect(c.errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ECONNRESET');
    expect(proxy.open).toBe(0);
    const again = await client(proxy.port);
    again.sock.write('PING\r\n');
    await until('PONG after the reset', () => again.said().includes('+PONG'));
    again.sock.destroy();
    await proxy.close();
  });
});
