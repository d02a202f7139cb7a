/**
 * Plain-text layout for human output: aligned columns and key/value blocks. Numbers are
 * right-aligned so that counts line up; nothing here knows about tasks.
 */

export type Cell = string | number | null | undefined;

// C0 and C1 controls, DEL, and lone surrogate halves: a name like "evil\x1b[2J" must not
// clear the reader's screen or retitle the terminal.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with control characters shown as escapes (\x1b, \u0085); newlines too unless kept. */
export function escapeText(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNSAFE_BUT_NEWLINE : UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = (cell: Cell) => (cell === null || cell === undefined ? '-' : escapeText(String(cell)));
  const all = [headers.map(text), ...rows.map((row) => headers.map((_, i) => text(row[i])))];
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const widths = headers.map((_, i) => Math.max(...all.map((row) => (row[i] as string).length)));
  const lines = all.map((row) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** `key  value` lines with the keys padded; a multi-line value is indented under its key. */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length));
  const indent = ' '.repeat(width + 2);
  return fields
    .map(([key, value]) => {
      const text = value === null || value === undefined ? '-' : escapeText(String(value), true);
      return `${key.padEnd(width)}  ${text.split('\n').join(`\n${indent}`)}`.trimEnd();
    })
    .join('\n')
    .concat('\n');
}

/** Cuts `text` to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
