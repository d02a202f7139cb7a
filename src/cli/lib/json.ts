/**
 * JSON from the command line (--args, --file lines), refusing integers that a JavaScript
 * number cannot hold exactly: JSON.parse turns 12345678901234567890 into 12345678901234567000
 * without a word, and the handler would get another number than the one typed.
 */
import { DelaydError } from '../../errors.js';

// Only text with a run of 16 digits can hold an integer beyond 2^53 (9007199254740992).
const LONG_DIGITS = /\d{16}/;
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

/** JSON.parse, with `fail(why)` making the error for invalid JSON and for inexact integers. */
export function parseJsonExact(text: string, fail: (why: string) => Error): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fail(`is not JSON (${(error as Error).message})`);
  }
  if (LONG_DIGITS.test(text)) {
    const inexact = inexactInteger(text);
    if (inexact !== undefined) throw fail(`holds the integer ${inexact}, which loses precision as a JSON number; pass it as a string`);
  }
  return value;
}

/** The first integer literal outside strings beyond Number.MAX_SAFE_INTEGER, in valid JSON text. */
export function inexactInteger(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) continue;
      const literal = match[0];
      if (match[1] === undefined && match[2] === undefined && !Number.isSafeInteger(Number(literal))) return literal;
      i += literal.length - 1;
    }
  }
  return undefined;
}

/** The E_BAD_ARGS for a --file line, in the words parseJsonExact gives. */
export function badLine(why: string): DelaydError {
  return new DelaydError('E_BAD_ARGS', `Expected a JSON object such as {"name": "send", "args": [1], "countdown": 5}, got a line that ${why}`);
}
