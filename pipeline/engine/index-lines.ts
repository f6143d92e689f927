// One line of a per-experiment index (index/<exp>/tasks.tsv): a task id, the key it last had and,
// when its record was validated in full, the record's summary with the stat signature its file
// had then. Tab-separated, because every no-op reads the whole index: for 100,000 tasks these
// lines parse about twice as fast as JSON lines and take half the bytes.
//   id  key                                              a key alone (a batch job's record)
//   id  key  sig  stage  startedAt  endedAt  durationMs  host  (output  hash  size)...
// A field holding a tab, a line break, '"' or '\' is written as a JSON string (so it starts
// with '"'). A line is checked like a record before anything in it is used (hashes before they
// name a file); a line that fails is skipped, which only costs reading that record in full.
import { isHash, type RecordSummary } from './record.ts';
import type { ContentHash, TaskKey } from './types.ts';

export interface IndexEntry {
  id: string;
  key: TaskKey;
  known?: { sig: string; record: RecordSummary };
}

const NEEDS_QUOTES = /[\t\n\r"\\]/;
const field = (s: string): string => (NEEDS_QUOTES.test(s) ? JSON.stringify(s) : s);

/** A field as written by `field`; undefined when a quoted one is not a JSON string. */
export function unfield(s: string): string | undefined {
  if (s.charCodeAt(0) !== 34 /* " */) return s;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The line of an entry, with its newline. */
export function encodeIndexLine(e: IndexEntry): string {
  if (!e.known) return `${field(e.id)}\t${e.key}\n`;
  const r = e.known.record;
  let line = `${field(e.id)}\t${e.key}\t${field(e.known.sig)}\t${field(r.stage)}\t${field(r.startedAt)}\t${field(r.endedAt)}\t${r.durationMs}\t${field(r.host)}`;
  for (const name in r.outputs) if (Object.hasOwn(r.outputs, name)) line += `\t${field(name)}\t${r.outputs[name]!.hash}\t${r.outputs[name]!.size}`;
  return `${line}\n`;
}

/** The entry a line holds (without its newline); undefined when it is not a valid one. */
export function decodeIndexLine(line: string): IndexEntry | undefined {
  const f = line.split('\t');
  if (f.length < 2) return undefined;
  const id = unfield(f[0]!);
  const key = f[1]!;
  if (id === undefined || !isHash(key)) return undefined;
  if (f.length === 2) return { id, key: key as TaskKey };
  if (f.length < 8 || (f.length - 8) % 3 !== 0) return { id, key: key as TaskKey };
  const sig = unfield(f[2]!);
  const stage = unfield(f[3]!);
  const startedAt = unfield(f[4]!);
  const endedAt = unfield(f[5]!);
  const durationMs = Number(f[6]);
  const host = unfield(f[7]!);
  // A summary that fails its checks leaves the id's key known, the record to be read in full.
  const keyOnly: IndexEntry = { id, key: key as TaskKey };
  if (sig === undefined || stage === undefined || startedAt === undefined || endedAt === undefined || host === undefined) return keyOnly;
  if (f[6] === '' || !Number.isFinite(durationMs) || durationMs < 0) return keyOnly;
  const outputs: RecordSummary['outputs'] = {};
  for (let i = 8; i < f.length; i += 3) {
    const name = unfield(f[i]!);
    const hash = f[i + 1]!;
    const size = Number(f[i + 2]);
    // '__proto__' would set the object's prototype instead of naming an output.
    if (name === undefined || name === '__proto__' || Object.hasOwn(outputs, name) || !isHash(hash) || f[i + 2] === '' || !Number.isInteger(size) || size < 0) return keyOnly;
    outputs[name] = { hash: hash as ContentHash, size };
  }
  const record: RecordSummary = { key: key as TaskKey, id, stage, outputs, startedAt, endedAt, durationMs, host };
  return { id, key: key as TaskKey, known: { sig, record } };
}

/**
 * Where the line from `start` to `end` (its newline) keeps its key: the key, the end of its id
 * field, and whether a summary follows; undefined when the line has no valid key. For reading an
 * index without decoding its lines (decodeIndexLine checks the rest when a line is asked for).
 */
export function lineKey(text: string, start: number, end: number): { key: TaskKey; idEnd: number; summary: boolean } | undefined {
  const tab = text.indexOf('\t', start);
  if (tab < 0 || tab >= end) return undefined;
  const keyEnd = tab + 65;
  if (keyEnd > end || (keyEnd < end && text.charCodeAt(keyEnd) !== 9)) return undefined;
  const key = text.slice(tab + 1, keyEnd);
  return isHash(key) ? { key: key as TaskKey, idEnd: tab, summary: keyEnd < end } : undefined;
}
