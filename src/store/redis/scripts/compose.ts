/**
 * A script is the part of LIB it uses, then its body. Redis runs a script's whole text on every
 * call, so each `local function` of LIB is a closure made again for every EVALSHA: all of LIB
 * cost ~40k instructions a call (callgrind), more than a GET, for scripts that use a few of its
 * functions. LIB is cut at its top-level definitions (`local function f`, `local x =`, each
 * with the comment above it); a piece is kept when its name is used by the body or by a kept
 * piece, in LIB's order (a piece uses only pieces above it). A name matched in a comment keeps a
 * piece needlessly, never drops one that is used.
 */
import { LuaScript } from '../link.js';
import { LIB } from './lib.js';

interface Piece {
  name: string;
  text: string;
}

/** LIB's top-level definitions in order; a comment block goes with the definition below it. */
function pieces(lib: string): Piece[] {
  const out: Piece[] = [];
  let pending: string[] = [];
  for (const line of lib.split('\n')) {
    const defined = /^local (?:function )?([A-Za-z_]\w*)/.exec(line);
    if (defined) {
      out.push({ name: defined[1]!, text: [...pending, line].join('\n') });
      pending = [];
    } else if (/^--/.test(line) || out.length === 0 || line.trim() === '') {
      pending.push(line);
    } else {
      out[out.length - 1]!.text += `\n${line}`;
    }
  }
  return out;
}

const LIB_PIECES = pieces(LIB);

/** The words a Lua text uses, comments left out. */
function words(text: string): Set<string> {
  return new Set(text.replace(/--[^\n]*/g, '').match(/[A-Za-z_]\w*/g) ?? []);
}

/** The pieces of LIB that `body` needs, then `body` (a `#!lua` flags line stays first). */
export function withLib(script: string): string {
  const flags = /^#!lua[^\n]*\n/.exec(script)?.[0] ?? '';
  const body = script.slice(flags.length);
  const used = words(body);
  const kept: string[] = [];
  for (let i = LIB_PIECES.length - 1; i >= 0; i--) {
    const piece = LIB_PIECES[i]!;
    if (!used.has(piece.name)) continue;
    kept.push(piece.text);
    for (const w of words(piece.text)) used.add(w);
  }
  return `${flags}${kept.reverse().join('\n')}\n${body}`;
}

/** A delayd script: the LIB it needs, then its body. */
export function luaScript(name: string, body: string): LuaScript {
  return new LuaScript(name, withLib(body));
}
