// A no-op proven without the graph. A run whose every task ended cached or built leaves its plan
// in the store (index/<experiment>/plan.tsv): each task's id, stage, key, the stat signature of
// its record file (the one its index line was validated with) and its outputs' blobs, under a
// digest of everything that decides the graph and the keys: the engine's own files, the
// project's and each stage's code fingerprint and runtime, the experiment's config and the
// stages asked for. A later `run` or `status` with the same digest needs no graph and no key:
// every record file with that signature (any change to it, even a `touch`, fails the proof) and
// every blob in the listing of objects/ is exactly what a planned no-op would have found, since
// each key is a function of the digest's inputs and the upstream records' contents. Anything
// else, and the command plans in full, as before (the proof is never trusted over the files).
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedExperiment } from './config.ts';
import { canonicalJson, codeFingerprint, sha256 } from './fingerprint.ts';
import { describeError } from './errors.ts';
import { RunLease } from './gc-lease.ts';
import type { TaskNode } from './graph.ts';
import { unfield } from './index-lines.ts';
import type { Planner } from './planner.ts';
import { publishOutputs } from './publish.ts';
import { isHash } from './record.ts';
import type { Reporter } from './reporter.ts';
import type { RunSummary, TaskResult } from './scheduler.ts';
import type { OutputEntry, Store } from './store.ts';
import type { ContentHash, JsonObject, ProbeMemo, StageDecl, TaskKey } from './types.ts';

const FORMAT = 'weakcorr-plan 1';
const PRINTABLE = /^[\x20-\x7e]*$/;

/** A task of a proven plan, as a run's summary gives it (made once: 100,000 of them). */
export interface ProvenTask extends TaskResult {
  state: 'cached';
  key: TaskKey;
}

export interface ProvenPlan {
  /** Every task of the plan, in plan order (upstream first), all cached. */
  tasks: ProvenTask[];
  /** The plan's stages, in the graph's order (a status table's rows). */
  stages: StageDecl[];
  /** Tasks of stages that publish an output, with their outputs (a run puts them in place). */
  publishing: { stage: StageDecl; outputs: Record<string, OutputEntry> }[];
}

/**
 * The engine's own files (size, inode, mtime, ctime of each, and Node's version): the digest
 * changes with any edit to the code that builds graphs and computes keys. Compiled or not, this
 * module's URL is its source's (bin/compiled.js keeps it), and a build follows its sources.
 */
let engineIdentity: string | undefined;
function engine(): string {
  if (engineIdentity) return engineIdentity;
  const dir = path.dirname(fileURLToPath(import.meta.url));
  const sigs: string[] = [process.version];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        sigs.push(`${path.relative(dir, p)}:${st.size}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`);
      }
    }
  };
  walk(dir);
  return (engineIdentity = sha256(sigs.join('\n')));
}

/**
 * What decides the plan of `stages` (in the graph's order) for this experiment and selection,
 * as one hash. Stage runtimes and code fingerprints are the planner's own (a run bundles them
 * fresh); the project module's fingerprint covers the stage list and anything it wires. That one
 * is taken from the store's memo while every file it came from is unchanged, as `status` takes a
 * stage's (bundling the whole project again would cost a run a few tenths of a second): it only
 * decides whether a plan may be tried, never a key.
 */
export async function planDigest(planner: Planner, exp: LoadedExperiment, selection: readonly string[], stages: readonly StageDecl[]): Promise<string> {
  const { project, variant } = planner;
  const memo = planner.runtimeContext.probes!;
  const recalled: ProbeMemo = { fresh: false, recall: (n, i) => memo.recall(n, i), remember: (n, i, v) => memo.remember(n, i, v) };
  const [projectCode, perStage] = await Promise.all([
    codeFingerprint(project.module, project.root, [], recalled),
    Promise.all(
      stages.map(async (s): Promise<JsonObject> => {
        const [code, runtime] = await Promise.all([planner.stageCode(s), planner.stageRuntime(s)]);
        return { name: s.name, code: code.code, files: code.files, runtime };
      }),
    ),
  ]);
  return sha256(
    canonicalJson({
      v: 1,
      engine: engine(),
      project: { code: projectCode.code, files: projectCode.files },
      experiment: variant.name,
      base: variant.base,
      overrides: variant.overrides,
      config: exp.config,
      selection: [...selection].sort(),
      stages: perStage,
    }),
  );
}

/**
 * A field of a plan line: printable ASCII as is; anything else (a tab, a line break, '"', '\',
 * any other character) as a JSON string with \u escapes, so the file is ASCII throughout and is
 * read as latin1 (a byte that is not ASCII fails the line it is in: `id` checks an id, a name
 * must be a declared output's, and a signature must equal its file's).
 */
function field(s: string): string {
  if (PRINTABLE.test(s) && !/["\\]/.test(s)) return s;
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A task id as `field` wrote it, or undefined. */
function id(f: string): string | undefined {
  return f.charCodeAt(0) === 34 || PRINTABLE.test(f) ? unfield(f) : undefined;
}

/**
 * Writes the plan of a run whose every task ended cached or executed (`results`, in plan
 * order), from the index's summaries as this run left them. Nothing is written when a task's
 * summary is not in the index (its record was not validated with a signature), or the store is
 * read-only; an old plan file then stays, and proves nothing its files do not still match.
 *   header: weakcorr-plan 1 <TAB> digest <TAB> tasks <TAB> body bytes (<TAB> stage)...
 *   a task: id <TAB> stage's place in the header <TAB> key <TAB> record sig (<TAB> output hash size)...
 */
export function writePlan(planner: Planner, digest: string, stages: readonly StageDecl[], tasks: readonly TaskNode[], results: readonly TaskResult[]): boolean {
  const { store, experiment } = planner;
  if (store.readOnly || tasks.length !== results.length) return false;
  const place = new Map(stages.map((s, i) => [s.name, i]));
  const lines: string[] = [];
  for (let i = 0; i < tasks.length; i++) {
    const r = results[i]!;
    if ((r.state !== 'cached' && r.state !== 'executed') || r.key === undefined || r.id !== tasks[i]!.id) return false;
    const at = place.get(r.stage);
    // The task's index line, as this run checked it (index-lines.ts): id, key, sig, stage,
    // startedAt, endedAt, durationMs, host, then each output's name, hash and size.
    const line = store.index.knownRaw(experiment, r.key);
    if (at === undefined || line === undefined) return false;
    if (typeof line !== 'string') {
      // Noted by this run (a task it ran, or a record it read in full).
      if (line.record.id !== r.id || line.record.stage !== r.stage) return false;
      lines.push(`${field(r.id)}\t${at}\t${r.key}\t${field(line.sig)}${outputsText(line.record.outputs)}\n`);
      continue;
    }
    const tab: number[] = [];
    for (let t = line.indexOf('\t'); t >= 0 && tab.length < 8; t = line.indexOf('\t', t + 1)) tab.push(t);
    if (tab.length < 7 || unfield(line.slice(0, tab[0])) !== r.id || line.slice(tab[0]! + 1, tab[1]) !== r.key || unfield(line.slice(tab[2]! + 1, tab[3])) !== r.stage) return false;
    const sig = unfield(line.slice(tab[1]! + 1, tab[2]));
    if (sig === undefined) return false;
    // The outputs as the index has them, when that is already ASCII (else the summary, written here).
    let outputs = tab.length === 8 ? line.slice(tab[7]) : '';
    if (!OUTPUTS_TEXT.test(outputs)) {
      const known = store.index.known(experiment, r.key);
      if (!known) return false;
      outputs = outputsText(known.record.outputs);
    }
    lines.push(`${field(r.id)}\t${at}\t${r.key}\t${field(sig)}${outputs}\n`);
  }
  const body = lines.join('');
  const head = `${FORMAT}\t${digest}\t${tasks.length}\t${body.length}${stages.map((s) => `\t${field(s.name)}`).join('')}\n`;
  store.index.setPlan(experiment, head + body);
  return true;
}

/** A task's outputs as its plan line ends with them: each one's name, hash and size. */
function outputsText(outputs: Record<string, OutputEntry>): string {
  let text = '';
  for (const [name, o] of Object.entries(outputs)) text += `\t${field(name)}\t${o.hash}\t${o.size}`;
  return text;
}

/** Outputs as an index line ends with them, in the form `field` would write (printable ASCII, no quotes). */
const OUTPUTS_TEXT = /^(\t[\x20-\x21\x23-\x5b\x5d-\x7e]*)*$/;

export interface PlanFile {
  path: string;
  digest: string;
  /** The plan's stages (of `project.stages`), in the graph's order. */
  stages: StageDecl[];
  count: number;
  /** Where the body starts, and its length in bytes. */
  bodyAt: number;
  bodyBytes: number;
}

/** Bytes read at a time: the body is parsed as it comes, never held whole (24 MB at 100,000 tasks). */
const CHUNK = 1 << 20;

/**
 * The header of the experiment's plan file, when it is one and names stages of the project; a
 * command then computes the digest for those stages and calls `prove`.
 */
export function readPlan(store: Store, projectStages: readonly StageDecl[], experiment: string): PlanFile | undefined {
  const file = store.index.planPath(experiment);
  let head: string;
  try {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, 0);
      const end = buf.subarray(0, n).indexOf(10);
      if (end < 0) return undefined;
      head = buf.toString('latin1', 0, end);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // none, or unreadable: plan in full
  }
  const f = head.split('\t');
  if (f.length < 5 || f[0] !== FORMAT || !isHash(f[1])) return undefined;
  const count = Number(f[2]);
  const bodyBytes = Number(f[3]);
  if (!Number.isSafeInteger(count) || count < 0 || !Number.isSafeInteger(bodyBytes) || bodyBytes < 0) return undefined;
  const stages: StageDecl[] = [];
  for (const name of f.slice(4)) {
    const s = projectStages.find((x) => x.name === unfield(name));
    if (!s) return undefined;
    stages.push(s);
  }
  return { path: file, digest: f[1]!, stages, count, bodyAt: head.length + 1, bodyBytes };
}

/**
 * Reads the body a chunk at a time and hands `parse` each run of whole lines (`text` from
 * `start` to just past the last newline); false when the file is not as long as its header
 * says, or `parse` fails a line.
 */
function readBody(file: PlanFile, parse: (text: string, end: number) => boolean): boolean {
  let fd: number;
  try {
    fd = openSync(file.path, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = file.bodyAt;
    const end = file.bodyAt + file.bodyBytes;
    let carry = '';
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
      if (n === 0) return false;
      pos += n;
      const text = carry + buf.toString('latin1', 0, n);
      const last = text.lastIndexOf('\n') + 1;
      if (!parse(text, last)) return false;
      carry = text.slice(last);
    }
    // The body ends with its last line's newline, and the file with the body.
    return carry === '' && readSync(fd, buf, 0, 1, end) === 0;
  } finally {
    closeSync(fd);
  }
}

/**
 * Every task of the plan file still cached, or undefined (then plan in full). `digest`: the
 * one computed now for the file's stages. Every record file is stat-ed in one loop, after the
 * file is read (the kernel's caches stay warm from one stat to the next). A task of a
 * publishing stage has its blobs verified (hashed, or unchanged since they were), as a planned
 * run does before it publishes.
 */
export async function prove(planner: Planner, file: PlanFile, digest: string): Promise<ProvenPlan | undefined> {
  if (digest !== file.digest) return undefined;
  const { store } = planner;
  const tasks: ProvenTask[] = [];
  const publishing: ProvenPlan['publishing'] = [];
  const publishes = file.stages.map((s) => Object.values(s.outputs).some((o) => o.publish));
  // What outputsFit asks of a record, per stage: every name declared, each once, every required one there.
  const names = file.stages.map((s) => Object.keys(s.outputs));
  const plain = names.map((ns) => ns.map((n) => field(n) === n));
  const required = file.stages.map((s) => Object.values(s.outputs).filter((o) => !o.optional).length);
  const seen: number[] = [];
  /** Where each task of the current chunk has its record's signature in the chunk's text. */
  let sigAt: Int32Array = new Int32Array(1024);
  let sigEnd: Int32Array = new Int32Array(1024);
  // Each chunk's lines are checked, then its record files stat-ed in one loop (the kernel's
  // caches stay warm from one stat to the next). Fields are found with indexOf and compared in
  // place: only a task's id and key (its summary) and each blob's hash (for the listing) are cut out.
  const parse = (text: string, end: number): boolean => {
    const first = tasks.length;
    for (let start = 0; start < end; ) {
      const nl = text.indexOf('\n', start);
      const t1 = text.indexOf('\t', start);
      const t2 = t1 < 0 ? -1 : text.indexOf('\t', t1 + 1);
      const t3 = t2 < 0 ? -1 : t2 + 65;
      if (t2 < 0 || t2 > nl || t3 >= nl || text.charCodeAt(t3) !== 9) return false;
      const at = digits(text, t1 + 1, t2);
      const stage = file.stages[at];
      const taskId = id(text.slice(start, t1));
      const key = text.slice(t2 + 1, t3);
      let t4 = text.indexOf('\t', t3 + 1);
      if (t4 < 0 || t4 > nl) t4 = nl;
      if (taskId === undefined || !stage || !isHash(key) || t4 === t3 + 1 || text.charCodeAt(t3 + 1) === 34 /* a quoted sig is no file's */) return false;
      const i = tasks.length - first;
      if (i === sigAt.length) {
        sigAt = grow(sigAt);
        sigEnd = grow(sigEnd);
      }
      sigAt[i] = t3 + 1;
      sigEnd[i] = t4;
      // Output objects only for a task that publishes; the others need their names checked and their blobs listed.
      const outputs: Record<string, OutputEntry> | undefined = publishes[at] ? {} : undefined;
      const declared = names[at]!;
      let found = 0;
      seen.length = 0;
      for (let f = t4; f < nl; ) {
        const a = f + 1;
        const b = text.indexOf('\t', a);
        const c = b < 0 ? -1 : b + 65;
        if (b < 0 || c >= nl || text.charCodeAt(c) !== 9) return false;
        let d = text.indexOf('\t', c + 1);
        if (d < 0 || d > nl) d = nl;
        const n = outputAt(text, a, b, declared, plain[at]!);
        const hash = text.slice(b + 1, c);
        const size = digits(text, c + 1, d);
        if (n < 0 || seen.includes(n) || !isHash(hash) || size < 0 || !store.blobListed(hash)) return false;
        const name = declared[n]!;
        if (outputs) outputs[name] = { hash: hash as ContentHash, size };
        seen.push(n);
        if (!stage.outputs[name]!.optional) found++;
        f = d;
      }
      if (found !== required[at]) return false;
      if (outputs) publishing.push({ stage, outputs });
      tasks.push({ id: taskId, stage: stage.name, state: 'cached', key: key as TaskKey });
      start = nl + 1;
    }
    for (let t = first; t < tasks.length; t++) {
      const sig = store.records.sig(tasks[t]!.key);
      const i = t - first;
      if (sig === undefined || sig.length !== sigEnd[i]! - sigAt[i]! || !text.startsWith(sig, sigAt[i])) return false;
    }
    return true;
  };
  if (!readBody(file, parse) || tasks.length !== file.count) return undefined;
  for (const p of publishing) for (const o of Object.values(p.outputs)) if ((await store.blobs.verify(o.hash)) !== 'ok') return undefined;
  return { tasks, stages: file.stages, publishing };
}

/** A decimal number without sign or leading zeros (but 0) from `a` to `b`; -1 when it is not one. */
function digits(text: string, a: number, b: number): number {
  if (a >= b || b - a > 15 || (text.charCodeAt(a) === 48 && b - a > 1)) return -1;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Which of `declared` the name field from `a` to `b` holds (compared in place unless quoted); -1 for none. */
function outputAt(text: string, a: number, b: number, declared: readonly string[], plain: readonly boolean[]): number {
  if (text.charCodeAt(a) === 34) {
    const name = unfield(text.slice(a, b));
    return name === undefined ? -1 : declared.indexOf(name);
  }
  for (let n = 0; n < declared.length; n++) if (plain[n] && declared[n]!.length === b - a && text.startsWith(declared[n]!, a)) return n;
  return -1;
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/**
 * A run of a proven plan: what runTasks does for a no-op (the store's folders, the gc lease, the
 * reporter's tally, published outputs put in place) without a graph. Every task is cached.
 * Undefined (nothing done, plan in full) when a published output's blob went between the proof
 * and the lease: the proof ran before this run held its lease, so a `gc --keep <other>` could
 * have swept it then; once the lease is held, no gc sweeps.
 */
export async function runProven(planner: Planner, plan: ProvenPlan, opts: { jobs: number; reporter: Reporter }): Promise<RunSummary | undefined> {
  const began = Date.now();
  const { reporter } = opts;
  await planner.store.init();
  const lease = await RunLease.take(planner.store);
  for (const p of plan.publishing)
    for (const o of Object.values(p.outputs))
      if (!(await planner.store.blobs.has(o.hash))) {
        await lease.release();
        return undefined;
      }
  const published = new Set<string>();
  try {
    reporter.start(plan.tasks.map((t) => t.id), opts.jobs);
    for (const p of plan.publishing) for (const dest of await publishOutputs(planner, { stage: p.stage }, p.outputs)) published.add(dest);
    for (const t of plan.tasks) reporter.taskEnded(t.id, 'cached');
  } finally {
    try {
      planner.store.flush(); // a published blob found intact, noted in verified.tsv as a planned run would
    } catch (e) {
      reporter.warn(`cannot write the store's index: ${describeError(e)}`);
    }
    reporter.stop();
    await lease.release();
  }
  return {
    experiment: planner.experiment,
    executed: 0,
    cached: plan.tasks.length,
    failed: 0,
    skipped: 0,
    interrupted: 0,
    durationMs: Date.now() - began,
    warnings: [...planner.warnings],
    published: [...published].sort(),
    tasks: plan.tasks,
  };
}
