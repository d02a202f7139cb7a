/**
 * delayd's Lua as one Redis Functions library (Redis 7): every LuaScript is a function of it,
 * and the code they share (scripts/lib.ts) is defined once, when the library loads, instead of
 * on every call. As EVALSHA, a script ran its whole text each time: LIB's ~50 closures and
 * tables cost about 39k Redis instructions a call (callgrind: EVALSHA of LIB + `return 1`
 * 56.0k, FCALL of a library function 17.3k), a sixth of a single insert.
 *
 * A script is declared as `new LuaScript(name, text)`, text being its body, which may use LIB's
 * functions (optionally after a `#!lua flags=...` line). When Redis is full (maxmemory), a function
 * without allow-oom is refused before it starts (nothing half-written), so the scripts that only
 * free memory (dropping stages, aborting decisions, purge, a gone worker's row) carry it, and
 * those that only read carry no-writes (a full Redis can still be looked at). The library holds
 * every script declared when it is first needed; its name and its functions' names carry a
 * hash of all of it (`delayd_<h>`, `<script>_<h>`), so two delayd versions sharing a Redis
 * (a rolling upgrade) each call their own. A node that lacks it (new, flushed, restarted
 * without persistence) answers "Function not found", and the caller loads it and calls again;
 * if the load is refused (a full Redis refuses FUNCTION LOAD), the script runs as one EVAL.
 */
import { createHash } from 'node:crypto';
import type { RedisLink } from './link.js';
import { LIB } from './scripts/lib.js';

const declared: LuaScript[] = [];

export class LuaScript {
  /** The script's own Lua (the callback's body; LIB is the library's). */
  readonly body: string;
  /** Redis Functions flags, from the text's `#!lua flags=` line. */
  readonly flags: readonly string[];
  constructor(
    readonly name: string,
    text: string,
  ) {
    const shebang = /^#!lua flags=([\w,-]+)\n/.exec(text);
    this.flags = shebang ? shebang[1]!.split(',') : [];
    this.body = shebang ? text.slice(shebang[0].length) : text;
    declared.push(this);
  }

  /** This script's function name in the current library. */
  get fn(): string {
    return `${this.name}_${library().hash}`;
  }

  /**
   * The script as one EVAL text, for a node that cannot load the library: FUNCTION LOAD is
   * refused when Redis is full (maxmemory), where EVAL of a script that only reads still runs.
   * Always with a shebang: without one, Redis runs a script in its old mode, refusing only its
   * first growing write on a full Redis (what ran before it stays written); with one, a script
   * that is neither no-writes nor allow-oom is refused before it starts, as a function is.
   */
  get standalone(): string {
    const head = this.flags.length > 0 ? `#!lua flags=${this.flags.join(',')}` : '#!lua';
    return `${head}\n${LIB}\nenter(ARGV)\n${this.body}`;
  }
}

interface Library {
  hash: string;
  text: string;
  size: number;
}

let built: Library | undefined;

/** The library of every script declared so far (built again only if one was declared since). */
export function library(): Library {
  if (built?.size === declared.length) return built;
  const hash = createHash('sha1').update(LIB);
  for (const s of declared) hash.update(`\0${s.name}\0${s.flags.join(',')}\0${s.body}`);
  const h = hash.digest('hex').slice(0, 12);
  const parts = [`#!lua name=delayd_${h}`, LIB];
  for (const s of declared) {
    const flags = s.flags.map((f) => `'${f}'`).join(', ');
    // enter(ARGV): the shard and fresh per-call state (a library's locals outlive a call).
    parts.push(`redis.register_function{function_name = '${s.name}_${h}', flags = { ${flags} }, callback = function(KEYS, ARGV)\nenter(ARGV)\n${s.body}\nend}`);
  }
  built = { hash: h, text: parts.join('\n'), size: declared.length };
  return built;
}

/** Whether a node's error says it lacks the function (load the library and call again). */
export function isMissingFunction(error: unknown): boolean {
  return error instanceof Error && /Function not found/i.test(error.message);
}

/** Whether FUNCTION LOAD failed only because another client loaded the same library first. */
export function isLoadedAlready(error: unknown): boolean {
  return error instanceof Error && /already exists/i.test(error.message);
}

/** delayd library names in a FUNCTION LIST reply (RESP2 arrays or RESP3 maps), but this version's. */
export function otherLibraries(reply: unknown): string[] {
  const own = `delayd_${library().hash}`;
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string' || Buffer.isBuffer(v)) {
      const s = String(v);
      if (/^delayd_[0-9a-f]{12}$/.test(s) && s !== own) found.add(s);
    } else if (v instanceof Map) {
      for (const [k, x] of v) (walk(k), walk(x));
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(walk);
    }
  };
  walk(reply);
  return [...found].sort();
}

/**
 * Libraries of other delayd versions on each master, read at open: each stays (about 240 KB)
 * until an operator deletes it, which only they can judge safe (a daemon of that version may
 * still run). Nothing when FUNCTION LIST is not allowed (an ACL): it is only a notice.
 */
export async function readOtherLibraries(link: Pick<RedisLink, 'onMasters'>): Promise<{ node: string; names: string[] }[]> {
  try {
    const replies = await link.onMasters(['FUNCTION', 'LIST', 'LIBRARYNAME', 'delayd_*']);
    return replies.map(({ node, reply }) => ({ node, names: otherLibraries(reply) })).filter((n) => n.names.length > 0);
  } catch {
    return [];
  }
}
