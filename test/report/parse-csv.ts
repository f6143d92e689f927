// Test helpers: read back the CSV the project writes, with d3-dsv's parser and, as a reader that
// shares no code with the writer, Python's csv module.
import { spawnSync } from 'node:child_process';
import { csvParseRows } from 'd3-dsv';

/** RFC 4180 text -> rows of fields (d3-dsv; a trailing line break ends the last row, adds none). */
export const parseCsv = (text: string): string[][] => csvParseRows(text);

// Bytes in, JSON out, so that no newline translation touches a CR or LF inside a quoted field.
const PY_READ = 'import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode("utf-8"), newline="")))))';

/** The rows Python's csv.reader finds in `text`; undefined when no python3 runs here. */
export function parseCsvWithPython(text: string): string[][] | undefined {
  const r = spawnSync('python3', ['-c', PY_READ], { input: Buffer.from(text, 'utf8'), encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    if (r.error) return undefined;
    throw new Error(`python3 csv.reader failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as string[][];
}
