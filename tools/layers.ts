// The layering of the source tree, checked: every import runs down the layers or stays in its own
// room, and no files or rooms import each other in a circle. docs/architecture.md draws the layers;
// `make layers` prints this check's findings and test/layers.test.ts fails on any.
//
// An import is read as text (static `import`/`export ... from`, dynamic `import('...')`, and asset
// files named as `new URL('...', import.meta.url)`), relative specifiers only: packages are outside
// the layering.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bottom to top; a room is a folder (its subfolders belong to it unless they are rooms of their own). */
export const LAYERS: { name: string; rooms: string[] }[] = [
  { name: 'engine', rooms: ['pipeline/engine'] },
  { name: 'base', rooms: ['stages/contracts', 'stages/model'] },
  { name: 'stage libraries', rooms: ['stages/fetch', 'stages/train', 'stages/stats', 'stages/page'] },
  { name: 'protocols', rooms: ['stages/protocols', 'stages/protocols/*'] },
  { name: 'registry-reading stages', rooms: ['stages/fit', 'stages/report'] },
  { name: 'wiring', rooms: ['stages/wiring'] },
  { name: 'entry points and tests', rooms: ['bin', 'bench', 'tools', 'test'] },
];

/** Imports allowed to run against the layering, each with its reason (at most one). */
export const EXCEPTIONS: { from: string; to: string; why: string }[] = [];

export interface Finding {
  kind: 'upward' | 'file circle' | 'room circle' | 'outside the layers';
  text: string;
}

export interface LayerReport {
  files: number;
  imports: number;
  roomArrows: number;
  findings: Finding[];
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
// Static imports start a line (so a string that holds import text is not one); dynamic imports and
// asset URLs may stand anywhere.
const SPEC = /(?:^\s*(?:import|export)\b[^;'"]*?\bfrom\s+|^\s*import\s+|\bimport\(\s*|new URL\(\s*)'(\.{1,2}\/[^']*)'/gm;

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (SOURCE.test(e.name)) out.push(p);
  }
  return out;
}

/** The room of a repo-relative path, and its layer index; null when it is in no room. */
export function roomOf(file: string, layers = LAYERS): { room: string; layer: number } | null {
  let best: { room: string; layer: number } | null = null;
  layers.forEach((l, layer) => {
    for (const pattern of l.rooms) {
      let room = pattern;
      if (pattern.endsWith('/*')) {
        const base = pattern.slice(0, -2);
        const rest = file.startsWith(`${base}/`) ? file.slice(base.length + 1) : null;
        if (!rest || !rest.includes('/')) continue;
        room = `${base}/${rest.split('/')[0]}`;
      } else if (file !== pattern && !file.startsWith(`${pattern}/`)) continue;
      if (!best || room.length > best.room.length) best = { room, layer };
    }
  });
  return best;
}

/** Strongly connected components of size > 1 (Tarjan), each sorted. */
function circles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** The import graph of `root`'s layered folders, checked against `layers`. */
export function checkLayers(root: string, layers = LAYERS, exceptions = EXCEPTIONS): LayerReport {
  const tops = [...new Set(layers.flatMap((l) => l.rooms.map((r) => r.split('/')[0]!)))];
  const files = tops.flatMap((t) => walk(path.join(root, t))).map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
  const fileGraph = new Map<string, Set<string>>();
  const roomGraph = new Map<string, Set<string>>();
  const findings: Finding[] = [];
  let imports = 0;
  for (const file of files) {
    const from = roomOf(file, layers);
    if (!from) { findings.push({ kind: 'outside the layers', text: `${file} is in no room of the layer table` }); continue; }
    const deps = new Set<string>();
    for (const m of fs.readFileSync(path.join(root, file), 'utf8').matchAll(SPEC)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!));
      if (!SOURCE.test(target) || target === file) continue;
      deps.add(target);
    }
    fileGraph.set(file, deps);
    for (const target of deps) {
      imports++;
      const to = roomOf(target, layers);
      if (!to) { findings.push({ kind: 'outside the layers', text: `${file} imports ${target}, which is in no room` }); continue; }
      if (to.room !== from.room) {
        if (!roomGraph.has(from.room)) roomGraph.set(from.room, new Set());
        roomGraph.get(from.room)!.add(to.room);
      }
      if (to.layer > from.layer && !exceptions.some((e) => e.from === file && e.to === target)) {
        findings.push({ kind: 'upward', text: `${file} (${layers[from.layer]!.name}) imports ${target} (${layers[to.layer]!.name})` });
      }
    }
  }
  for (const c of circles(fileGraph)) findings.push({ kind: 'file circle', text: `import each other: ${c.join(', ')}` });
  for (const c of circles(roomGraph)) findings.push({ kind: 'room circle', text: `import each other: ${c.join(', ')}` });
  const roomArrows = [...roomGraph.values()].reduce((n, s) => n + s.size, 0);
  return { files: files.length, imports, roomArrows, findings };
}

export function formatReport(r: LayerReport, layers = LAYERS): string {
  const lines = [
    'layers, bottom to top: ' + layers.map((l) => `${l.name} (${l.rooms.join(', ')})`).join(' < '),
    `${r.files} files, ${r.imports} imports, ${r.roomArrows} arrows between rooms`,
  ];
  const count = (k: Finding['kind']): number => r.findings.filter((f) => f.kind === k).length;
  lines.push(`upward imports: ${count('upward')}; file circles: ${count('file circle')}; room circles: ${count('room circle')}; outside the layers: ${count('outside the layers')}`);
  for (const f of r.findings) lines.push(`  ${f.kind}: ${f.text}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
  const report = checkLayers(root);
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.findings.length ? 1 : 0;
}
