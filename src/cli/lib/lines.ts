/**
 * Lines of a text stream, all the lines of one read at a time. They are the lines readline
 * gives with crlfDelay Infinity: a line ends at \n, \r\n or a lone \r (also when a read ends
 * between the \r and the \n); a last line without an end counts, an empty one after the last
 * end does not. readline hands out one line per promise, which cost `enqueue --file` about
 * as much as parsing the line; here there is one promise per read.
 *
 * Only each new read is split: the start of an unfinished line waits as pieces, joined once
 * its end comes, so a long line costs its length, not its length times the reads it spans.
 * A line longer than `maxLineBytes` is refused as soon as that much of it has come, without
 * reading the rest. A byte-order mark at the very start is dropped (editors on Windows add it).
 */
import { StringDecoder } from 'node:string_decoder';
import { DelaydError } from '../../errors.js';

export interface LineReaderOptions {
  /** The longest line accepted, in UTF-8 bytes. @default unlimited */
  maxLineBytes?: number;
}

export class LineReader implements AsyncIterable<string[]> {
  readonly #input: AsyncIterable<Buffer | string>;
  readonly #maxLineBytes: number;
  #bytes = 0;

  constructor(input: AsyncIterable<Buffer | string>, options: LineReaderOptions = {}) {
    this.#input = input;
    this.#maxLineBytes = options.maxLineBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes read so far (of UTF-8 text, when the stream gives strings). */
  get bytes(): number {
    return this.#bytes;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string[]> {
    const decoder = new StringDecoder('utf8');
    const pending = new Pending(this.#maxLineBytes);
    // The line in `pending` has ended at a \r that may be the first half of a \r\n.
    let heldCr = false;
    let first = true;
    for await (const chunk of this.#input) {
      this.#bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (first && text !== '') {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      const out: string[] = [];
      if (heldCr && text !== '') {
        out.push(pending.take());
        heldCr = false;
        if (text.startsWith('\n')) text = text.slice(1);
      }
      let tooLongError: unknown;
      try {
        const parts = splitLines(text);
        let tail = parts.pop() as string;
        for (let i = 0; i < parts.length; i++) {
          const line = i === 0 ? pending.take() + (parts[0] as string) : (parts[i] as string);
          checkLength(line, this.#maxLineBytes);
          out.push(line);
        }
        if (tail.endsWith('\r')) {
          heldCr = true;
          tail = tail.slice(0, -1);
        }
        pending.add(tail);
      } catch (error) {
        tooLongError = error;
      }
      // The lines before the long one first, so that the error names the right line.
      if (out.length > 0) yield out;
      if (tooLongError !== undefined) throw tooLongError;
    }
    pending.add(decoder.end());
    if (heldCr || !pending.empty) yield [pending.take()];
  }
}

/** The start of an unfinished line, a piece per read. */
class Pending {
  readonly #max: number;
  #pieces: string[] = [];
  #bytes = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get empty(): boolean {
    return this.#pieces.length === 0;
  }

  add(piece: string): void {
    if (piece === '') return;
    this.#pieces.push(piece);
    this.#bytes += Buffer.byteLength(piece);
    if (this.#bytes > this.#max) throw tooLong(this.#max);
  }

  take(): string {
    const line = this.#pieces.length === 1 ? (this.#pieces[0] as string) : this.#pieces.join('');
    this.#pieces = [];
    this.#bytes = 0;
    return line;
  }
}

function checkLength(line: string, max: number): void {
  // UTF-8 needs at most 3 bytes per UTF-16 code unit: short lines need no byte count.
  if (line.length * 3 > max && Buffer.byteLength(line) > max) throw tooLong(max);
}

function tooLong(max: number): DelaydError {
  return new DelaydError('E_ARGS_TOO_LARGE', `Expected a line of at most ${max} bytes, got a longer one (refused before reading the rest of it)`);
}

/**
 * The complete lines of `text`, then what follows the last line end. A \r at the very end
 * stays in that remainder: it may be the first half of a \r\n split between two reads.
 */
export function splitLines(text: string): string[] {
  const held = text.endsWith('\r');
  const body = held ? text.slice(0, -1) : text;
  // Without any \r (the usual case) a plain split, several times faster than the regular expression.
  const lines = body.includes('\r') ? body.split(/\r\n|\n|\r/) : body.split('\n');
  if (held) lines[lines.length - 1] += '\r';
  return lines;
}
