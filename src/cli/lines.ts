/**
 * Lines of a text stream, all the lines of one read at a time. They are the lines readline
 * gives with crlfDelay Infinity: a line ends at \n, \r\n or a lone \r (also when a read ends
 * between the \r and the \n); a last line without an end counts, an empty one after the last
 * end does not. readline hands out one line per promise, which cost `enqueue --file` about
 * as much as parsing the line; here there is one promise per read.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineReader implements AsyncIterable<string[]> {
  readonly #input: AsyncIterable<Buffer | string>;
  #bytes = 0;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.#input = input;
  }

  /** Bytes read so far (of UTF-8 text, when the stream gives strings). */
  get bytes(): number {
    return this.#bytes;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string[]> {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for await (const chunk of this.#input) {
      this.#bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      const lines = splitLines(rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk)));
      rest = lines.pop() as string;
      if (lines.length > 0) yield lines;
    }
    const last = rest + decoder.end();
    // `rest` holds no line end but, at most, a \r that waited for a \n that never came.
    if (last.endsWith('\r')) yield [last.slice(0, -1)];
    else if (last !== '') yield [last];
  }
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
