/**
 * `enqueue --file` splits its input with LineReader instead of readline: it must give the
 * same lines as readline (crlfDelay Infinity) however the input is cut into reads.
 */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../src/cli/lib/lines.js';

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

async function viaReadline(chunks: readonly Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: Readable.from(chunks), crlfDelay: Number.POSITIVE_INFINITY })) lines.push(line);
  return lines;
}

async function viaLineReader(chunks: readonly (Buffer | string)[]): Promise<{ lines: string[]; bytes: number }> {
  const reader = new LineReader(Readable.from(chunks));
  const lines: string[] = [];
  for await (const read of reader) lines.push(...read);
  return { lines, bytes: reader.bytes };
}

/** `text` as UTF-8, cut at random byte offsets (inside characters and between \r and \n too). */
function cut(text: string, random: () => number): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(random() * 6);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

describe('LineReader', () => {
  it.each([
    ['nothing', ''],
    ['one line without an end', '{"a":1}'],
    ['one line with an end', '{"a":1}\n'],
    ['blank lines', '\n\n  \n'],
    ['CRLF', 'a\r\nb\r\n'],
    ['lone CRs', 'a\rb\r\rc'],
    ['a CR at the very end', 'a\nb\r'],
    ['CR CR LF', 'a\r\r\nb'],
    ['LF CR', 'a\n\rb\n\r'],
  ])('gives the lines readline gives: %s', async (_, text) => {
    for (const chunks of [[Buffer.from(text)], [...Buffer.from(text)].map((b) => Buffer.from([b]))]) {
      expect((await viaLineReader(chunks)).lines).toEqual(await viaReadline(chunks));
    }
  });

  it('gives the lines readline gives for random text cut into random reads, and counts every byte', async () => {
    const random = lcg(7);
    const alphabet = ['a', 'b', '{', '"', ' ', '\n', '\n', '\r', '\r\n', 'é', '€', '😀'];
    for (let round = 0; round < 300; round++) {
      let text = '';
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const chunks = cut(text, random);
      const got = await viaLineReader(chunks);
      expect(got.lines, JSON.stringify(text)).toEqual(await viaReadline(chunks));
      expect(got.bytes).toBe(Buffer.byteLength(text));
    }
  });

  it('takes a stream of strings too', async () => {
    expect(await viaLineReader(['a\r', '\nb', 'é\n'])).toEqual({ lines: ['a', 'bé'], bytes: 7 });
  });
});

describe('LineReader limits and byte-order marks', () => {
  it('drops a byte-order mark at the very start, also when it is split between reads', async () => {
    const bom = Buffer.from('\ufeff{"a":1}\n\ufeffb\n');
    expect((await viaLineReader([bom])).lines).toEqual(['{"a":1}', '\ufeffb']);
    expect((await viaLineReader([bom.subarray(0, 1), bom.subarray(1, 2), bom.subarray(2)])).lines).toEqual(['{"a":1}', '\ufeffb']);
  });

  it('refuses a line longer than the limit as soon as that much of it has come, reading no further', async () => {
    let reads = 0;
    async function* endless() {
      for (;;) {
        reads++;
        yield Buffer.alloc(1000, 'x');
      }
    }
    const reader = new LineReader(endless(), { maxLineBytes: 10_000 });
    const error = await (async () => {
      for await (const _ of reader) void _;
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_ARGS_TOO_LARGE', message: expect.stringMatching(/^Expected a line of at most 10000 bytes, got a longer one/) });
    expect(reads).toBe(11);
  });

  it('refuses a long complete line inside one read, and accepts one at the limit', async () => {
    const line = 'é'.repeat(50);
    expect((await viaLines([`${line}\nok\n`], 100)).lines).toEqual([line, 'ok']);
    await expect(viaLines([`${line}x\nok\n`], 100)).rejects.toMatchObject({ code: 'E_ARGS_TOO_LARGE' });
  });

  it('joins a long line from many reads in time linear in its length', async () => {
    const pieces = Array.from({ length: 2000 }, () => Buffer.alloc(4096, 'y'));
    const started = performance.now();
    const { lines } = await viaLines([...pieces, Buffer.from('\nz')], Number.POSITIVE_INFINITY);
    expect(lines.map((l) => l.length)).toEqual([2000 * 4096, 1]);
    // Re-splitting the whole line at every read took seconds for this (8 MB in 2000 reads).
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

async function viaLines(chunks: readonly (Buffer | string)[], maxLineBytes: number): Promise<{ lines: string[] }> {
  const reader = new LineReader(Readable.from(chunks), { maxLineBytes });
  const lines: string[] = [];
  for await (const read of reader) lines.push(...read);
  return { lines };
}
