/**
 * What a Redis server promises, read once at open: `appendonly`, `appendfsync` and
 * `maxmemory-policy` of every master (CONFIG GET, or INFO where CONFIG is disabled, as on
 * some managed services). An eviction policy other than noeviction is refused: an evicted task
 * hash is a task lost without a word.
 */
import { DelaydError } from '../../errors.js';
import type { RedisLink } from './link.js';

export type DurabilityMode = 'memory' | 'aof-no' | 'aof-everysec' | 'aof-always' | 'unknown';

export interface NodeDurability {
  node: string;
  mode: DurabilityMode;
  maxmemoryPolicy: string;
}

export const MEANING: Record<DurabilityMode, string> = {
  memory: 'no AOF: a Redis restart loses every task',
  'aof-no': 'AOF without fsync: a process crash loses nothing, an OS crash or power cut loses what the kernel had not written (up to ~30 s)',
  'aof-everysec': 'AOF fsync everysec: a process crash loses nothing, an OS crash or power cut about the last second',
  'aof-always': 'AOF fsync always: nothing acknowledged is lost on this node',
  unknown: 'the persistence settings could not be read',
};

function pairs(reply: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  else if (reply && typeof reply === 'object') for (const [k, v] of Object.entries(reply)) map.set(k, String(v));
  return map;
}

function infoField(info: unknown, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(String(info))?.[1]?.trim();
}

export async function readDurability(link: RedisLink): Promise<NodeDurability[]> {
  let replies: { node: string; reply: unknown }[];
  try {
    replies = await link.onMasters(['CONFIG', 'GET', 'appendonly', 'appendfsync', 'maxmemory-policy']).then((all) =>
      all.map(({ node, reply }) => ({ node, reply: pairs(reply) })),
    );
  } catch {
    replies = [];
  }
  if (replies.length > 0) {
    return replies.map(({ node, reply }) => {
      const c = reply as Map<string, string>;
      const aof = c.get('appendonly');
      const fsync = c.get('appendfsync');
      const mode: DurabilityMode = aof === undefined ? 'unknown' : aof !== 'yes' ? 'memory' : (`aof-${fsync}` as DurabilityMode);
      return { node, mode, maxmemoryPolicy: c.get('maxmemory-policy') ?? 'unknown' };
    });
  }
  const info = await link.onMasters(['INFO']);
  return info.map(({ node, reply }) => ({
    node,
    mode: infoField(reply, 'aof_enabled') === '1' ? 'aof-everysec' : infoField(reply, 'aof_enabled') === '0' ? 'memory' : 'unknown',
    maxmemoryPolicy: infoField(reply, 'maxmemory_policy') ?? 'unknown',
  }));
}

/** Refuses an eviction policy; returns the nodes' modes for the log. */
export function checkDurability(nodes: readonly NodeDurability[]): void {
  for (const n of nodes) {
    if (n.maxmemoryPolicy !== 'noeviction' && n.maxmemoryPolicy !== 'unknown') {
      throw new DelaydError(
        'E_BACKEND_CONFIG',
        `Expected Redis ${n.node} to have maxmemory-policy noeviction, got ${n.maxmemoryPolicy}: an evicted task would be lost silently (CONFIG SET maxmemory-policy noeviction)`,
      );
    }
  }
}
