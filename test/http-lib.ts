/**
 * Helpers of the HTTP tests: a strict parser of the Prometheus text format (0.0.4), so a test
 * fails on output Prometheus would refuse, and a daemon with --http started as a child process.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Daemon } from './fixtures/cli.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of one series; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function family(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === 'histogram' || type === 'summary' || (type === 'counter' && suffix === '_total')) return base;
    }
  }
  throw new Error(`sample ${name} has no # TYPE line before it`);
}

function parseValue(text: string, line: string): number {
  // Prometheus reads values with Go's strconv.ParseFloat: Inf and NaN in any case (prom-client writes `Nan`).
  if (/^[+]?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in ${JSON.stringify(line)}`);
  return Number(text);
}

/** Parses label pairs `a="x",b="y"` with the format's three escapes only. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    const key = text.slice(i, eq);
    if (!LABEL.test(key) || key in labels) throw new Error(`bad or repeated label name ${JSON.stringify(key)} in ${JSON.stringify(line)}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in ${JSON.stringify(line)}`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape \\${next} in ${JSON.stringify(line)}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) throw new Error(`expected , between labels in ${JSON.stringify(line)}`);
  }
  return labels;
}

const key = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;

export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Map<string, number>();
  const done = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) throw new Error(`bad metric name in ${JSON.stringify(line)}`);
      if (kind === 'TYPE') {
        if (types.has(name)) throw new Error(`second # TYPE for ${name}`);
        if (!TYPES.has(rest ?? '')) throw new Error(`bad type in ${JSON.stringify(line)}`);
        if (seen.size > 0 && [...samples].some((s) => family(s.name, types) === name)) throw new Error(`# TYPE ${name} after its samples`);
        types.set(name, rest!);
      } else {
        if (helps.has(name)) throw new Error(`second # HELP for ${name}`);
        helps.add(name);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    const labels = m[2] === undefined ? {} : parseLabels(m[2], line);
    const value = parseValue(m[3]!, line);
    const fam = family(name, types);
    if (fam !== current) {
      if (done.has(fam)) throw new Error(`samples of ${fam} are not together`);
      if (current) done.add(current);
      current = fam;
    }
    const k = key(name, labels);
    if (seen.has(k)) throw new Error(`series ${k} twice`);
    seen.set(k, value);
    samples.push({ name, labels, value });
  }
  checkHistograms(types, samples);
  return { types, samples, value: (name, labels = {}) => seen.get(key(name, labels)) };
}

/** Buckets ascending by le, cumulative counts never falling, a +Inf bucket equal to _count, and a _sum. */
function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [name, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, { le: number; v: number }[]>();
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      const g = key(name, rest);
      groups.set(g, [...(groups.get(g) ?? []), { le: parseValue(le, le), v: s.value }]);
    }
    for (const [g, buckets] of groups) {
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i]!.le > buckets[i - 1]!.le)) throw new Error(`${g}: buckets not ascending`);
        if (buckets[i]!.v < buckets[i - 1]!.v) throw new Error(`${g}: bucket counts fall`);
      }
      const last = buckets[buckets.length - 1]!;
      if (last.le !== Number.POSITIVE_INFINITY) throw new Error(`${g}: no +Inf bucket`);
      const labels = samples.find((s) => s.name === `${name}_bucket` && key(name, (({ le: _le, ...r }) => r)(s.labels)) === g)!.labels;
      const { le: _le, ...rest } = labels;
      const count = samples.find((s) => s.name === `${name}_count` && key(name, s.labels) === key(name, rest));
      const sum = samples.find((s) => s.name === `${name}_sum` && key(name, s.labels) === key(name, rest));
      if (!count || count.value !== last.v) throw new Error(`${g}: _count is not the +Inf bucket`);
      if (!sum) throw new Error(`${g}: no _sum`);
    }
  }
}

/** The bucket counts of one histogram series, by le. */
export function buckets(e: Exposition, name: string, labels: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of e.samples) {
    if (s.name !== `${name}_bucket`) continue;
    const { le, ...rest } = s.labels;
    if (key(name, rest) === key(name, labels)) out[le!] = s.value;
  }
  return out;
}

export const TOKEN = 'test-token-0123456789abcdef';

/** A file holding TOKEN, for --http-token-file, in `dir`. */
export function tokenFile(dir: string, token = TOKEN): string {
  const path = join(dir, 'token');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return path;
}

/** A daemon with --http on a free loopback port; `url` once it listens. */
export async function httpDaemon(db: string, args: readonly string[] = ['--http', '127.0.0.1:0']): Promise<{ daemon: Daemon; url: string }> {
  const daemon = new Daemon(db, args);
  await daemon.waitFor('http listening', (d) => d.count('http listening') === 1 && d.count('scheduler started') === 1);
  const url = daemon.events.find((e) => e.msg === 'http listening')!.url as string;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return { daemon, url };
}
