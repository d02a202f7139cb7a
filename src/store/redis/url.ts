/**
 * Redis `db` targets: `redis://[user:password@]host:port[/db]`, `rediss://` (TLS) and
 * `redis+cluster://host:port,host:port` (`rediss+cluster://` with TLS). Parsed before anything
 * connects, so a malformed target is refused with E_BAD_DB_URL and nothing is created.
 */
import { DelaydError } from '../../errors.js';

export interface RedisTarget {
  kind: 'single' | 'cluster';
  tls: boolean;
  nodes: { host: string; port: number }[];
  username: string | undefined;
  password: string | undefined;
  /** Logical database (single server only). @default 0 */
  database: number;
}

const SCHEMES: Record<string, { kind: RedisTarget['kind']; tls: boolean }> = {
  'redis:': { kind: 'single', tls: false },
  'rediss:': { kind: 'single', tls: true },
  'redis+cluster:': { kind: 'cluster', tls: false },
  'rediss+cluster:': { kind: 'cluster', tls: true },
};

/** Whether `db` names a Redis target (by its scheme alone; parseRedisUrl checks the rest). */
export function isRedisUrl(db: string): boolean {
  return /^rediss?(\+cluster)?:\/\//i.test(db);
}

export function parseRedisUrl(db: string, what = '`db`'): RedisTarget {
  const bad = (why: string) =>
    new DelaydError(
      'E_BAD_DB_URL',
      `Expected ${what} to be redis://[user:password@]host:port[/db], rediss://... or redis+cluster://host:port,host:port; got ${JSON.stringify(redact(db))}: ${why}`,
    );
  const m = /^([a-z+]+:)\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i.exec(db);
  if (!m) throw bad('not a URL');
  const scheme = SCHEMES[(m[1] as string).toLowerCase()];
  if (!scheme) throw bad(`unknown scheme ${m[1]}`);
  if (m[5] || m[6]) throw bad('query strings and fragments are not supported');
  let username: string | undefined;
  let password: string | undefined;
  if (m[2] !== undefined) {
    const [user, ...rest] = m[2].split(':');
    try {
      username = user === '' ? undefined : decodeURIComponent(user as string);
      password = rest.length === 0 ? undefined : decodeURIComponent(rest.join(':'));
    } catch {
      throw bad('the user or password is not valid percent-encoding');
    }
  }
  const hosts = (m[3] as string).split(',');
  if (scheme.kind === 'single' && hosts.length !== 1) throw bad('several hosts need redis+cluster://');
  const nodes = hosts.map((h) => hostPort(h, bad));
  let database = 0;
  const path = m[4] ?? '';
  if (path !== '' && path !== '/') {
    if (scheme.kind === 'cluster') throw bad('a cluster has no database number');
    if (!/^\/\d{1,5}$/.test(path)) throw bad(`the database must be a number, got ${JSON.stringify(path.slice(1))}`);
    database = Number(path.slice(1));
  }
  return { kind: scheme.kind, tls: scheme.tls, nodes, username, password, database };
}

function hostPort(text: string, bad: (why: string) => DelaydError): { host: string; port: number } {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(text);
  if (!m) throw bad(`expected host:port, got ${JSON.stringify(text)}`);
  const port = m[2] === undefined ? 6379 : Number(m[2]);
  if (port < 1 || port > 65535) throw bad(`the port must be 1 to 65535, got ${m[2]}`);
  const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** The URL with its password replaced, for messages and logs. */
export function redact(db: string): string {
  return db.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
