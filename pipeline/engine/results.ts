// `results`: every metric the stages declare, read from cached records, as one tidy table (a row
// per measurement: stage, task, each grid axis and group coordinate in its own column, metric,
// a numeric value, the task's labels such as its status), like `dvc metrics show`; the claims the
// stages judge as a second table; and `diff` of two experiments.
import { csvFormatRows } from 'd3-dsv';
import { CorruptBlobError, StoreError } from './errors.ts';
import type { Planner } from './planner.ts';
import type { TaskStatus } from './inspect.ts';
import type { Json, JsonObject, MetricGroup, MetricValue, StageDecl, VerdictRow } from './types.ts';

export interface MetricRow {
  stage: string;
  task: string;
  /** The task's grid axes (dataset, width, seed, ...). */
  axes: Record<string, MetricValue>;
  /** The group's own coordinates beyond the axes (e.g. a fit group's { fit, alpha }); {} if none. */
  group: Record<string, MetricValue>;
  metric: string;
  /** A measurement; null where it is not finite (a diverged run). */
  value: number | null;
  /** What the task reports that is not a number (e.g. status: 'ok'), on each of its rows. */
  labels: Record<string, string | boolean>;
}

export interface MetricsTable {
  experiment: string;
  rows: MetricRow[];
  /** One row per judged claim, from the stages that declare verdicts. */
  verdicts: VerdictRow[];
  /** The verdict columns `check` compares with a baseline. */
  gate: string[];
  /** Tasks of metric-declaring stages that have no valid record yet (run them first). */
  notCached: string[];
}

const isGroups = (m: Record<string, MetricValue> | MetricGroup[]): m is MetricGroup[] => Array.isArray(m);

/** A task's metrics as rows: numbers (and null) are measurements, strings and booleans its labels. */
export function metricRows(stage: string, task: string, axes: Record<string, Json>, read: Record<string, MetricValue> | MetricGroup[]): MetricRow[] {
  const groups = isGroups(read) ? read : [{ coords: {}, metrics: read }];
  const axisCells: Record<string, MetricValue> = {};
  for (const [k, v] of Object.entries(axes)) axisCells[k] = v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
  const labels: Record<string, string | boolean> = {};
  for (const g of groups) for (const [k, v] of Object.entries(g.metrics)) if (typeof v === 'string' || typeof v === 'boolean') labels[k] = v;
  const rows: MetricRow[] = [];
  for (const g of groups)
    for (const [metric, v] of Object.entries(g.metrics))
      if (typeof v === 'number' || v === null) rows.push({ stage, task, axes: axisCells, group: g.coords, metric, value: v === null || Number.isFinite(v) ? v : null, labels });
  return rows;
}

/** Metrics and verdicts of the cached tasks among `statuses` whose stage declares metrics (and passes `only`). */
export async function collectMetrics(planner: Planner, statuses: readonly TaskStatus[], only?: (s: StageDecl) => boolean): Promise<MetricsTable> {
  const stages = new Map(planner.project.stages.map((s) => [s.name, s]));
  const rows: MetricRow[] = [];
  const verdicts: VerdictRow[] = [];
  const gate = new Set<string>();
  const verdictTask = new Map<string, string>();
  const notCached: string[] = [];
  for (const st of statuses) {
    const stage = stages.get(st.stage);
    if (!stage?.metrics || (only && !only(stage))) continue;
    const record = st.state === 'cached' && st.key ? await planner.store.records.read(st.key) : undefined;
    if (!record) {
      notCached.push(st.id);
      continue;
    }
    const outputs: Record<string, Json> = {};
    for (const [name, out] of Object.entries(record.outputs))
      if (stage.outputs[name]?.kind === 'json') outputs[name] = JSON.parse((await readBlob(planner, st.id, name, out.hash)).toString('utf8')) as Json;
    const task = { id: st.id, axes: record.axes };
    rows.push(...metricRows(st.stage, st.id, record.axes, stage.metrics.read(outputs, task)));
    if (stage.metrics.verdicts) {
      for (const g of stage.metrics.verdicts.gate) gate.add(g);
      for (const v of stage.metrics.verdicts.read(outputs, task)) {
        const other = verdictTask.get(v.id);
        if (other !== undefined) throw new Error(`claim id '${v.id}' is reported twice (tasks ${other} and ${st.id}): claim ids must be unique`);
        verdictTask.set(v.id, st.id);
        verdicts.push(v);
      }
    }
  }
  return { experiment: planner.experiment, rows, verdicts, gate: [...gate], notCached };
}

export interface Tidy {
  columns: string[];
  /** Every row has every column (null where it does not apply). */
  rows: Record<string, MetricValue>[];
}

const FIXED = ['stage', 'task', 'metric', 'value'];

/**
 * The tidy form: stage, task, then every axis and group coordinate in order of first appearance,
 * metric, value, then the labels. A label whose name is taken by a column gets a `_label` suffix.
 */
export function tidyMetrics(rows: readonly MetricRow[]): Tidy {
  const coords = new Set<string>();
  const labels = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.axes)) coords.add(k);
    for (const k of Object.keys(r.group)) coords.add(k);
  }
  for (const c of FIXED) coords.delete(c);
  const labelColumn = (k: string): string => (coords.has(k) || FIXED.includes(k) ? `${k}_label` : k);
  for (const r of rows) for (const k of Object.keys(r.labels)) labels.add(labelColumn(k));
  const columns = ['stage', 'task', ...coords, 'metric', 'value', ...labels];
  return {
    columns,
    rows: rows.map((r) => {
      const out: Record<string, MetricValue> = Object.fromEntries(columns.map((c) => [c, null]));
      for (const [k, v] of Object.entries({ ...r.axes, ...r.group })) if (coords.has(k)) out[k] = v;
      for (const [k, v] of Object.entries(r.labels)) out[labelColumn(k)] = v;
      Object.assign(out, { stage: r.stage, task: r.task, metric: r.metric, value: r.value });
      return out;
    }),
  };
}

/** The verdict table: `id`, then every column the rows have, in order of first appearance. */
export function tidyVerdicts(verdicts: readonly VerdictRow[]): Tidy {
  const columns = [...new Set(['id', ...verdicts.flatMap((v) => Object.keys(v))])];
  return { columns, rows: verdicts.map((v) => Object.fromEntries(columns.map((c) => [c, v[c] ?? null]))) };
}

// md is for reading: fractions to 4 significant digits, integers (widths, seeds, steps) whole;
// csv and json keep every digit.
const mdNumber = (v: number): string => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));
const mdCell = (v: MetricValue): string => (v === null ? '' : typeof v === 'number' ? mdNumber(v) : String(v).replaceAll('|', '\\|').replace(/\r?\n/g, ' '));

export function formatTable(columns: readonly string[], rows: readonly MetricValue[][], format: 'csv' | 'md'): string {
  // RFC 4180 by d3-dsv, the one CSV writer of the project (the page's downloads use it too).
  if (format === 'csv') return csvFormatRows([columns, ...rows]);
  return [`| ${columns.map(mdCell).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

/** The table with only these columns, in this order (each must be one of its columns). */
export function pickColumns(t: Tidy, columns: readonly string[]): Tidy {
  return { columns: [...columns], rows: t.rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))) };
}

/** A tidy table in csv or md. */
export const formatTidy = (t: Tidy, format: 'csv' | 'md'): string => formatTable(t.columns, t.rows.map((r) => t.columns.map((c) => r[c] ?? null)), format);

/** Dot path -> value for every leaf of a config (lists are leaves). */
export function flatten(value: Json, prefix = ''): Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { [prefix]: value };
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) Object.assign(out, flatten(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

export interface ParamChange {
  key: string;
  a: Json | null;
  b: Json | null;
}

export interface MetricChange {
  task: string;
  metric: string;
  a: MetricValue | undefined;
  b: MetricValue | undefined;
  /** b - a, when both are numbers */
  delta?: number;
}

export function diffConfigs(a: JsonObject, b: JsonObject): ParamChange[] {
  const fa = flatten(a);
  const fb = flatten(b);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  return keys
    .filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]))
    .map((k) => ({ key: k, a: fa[k] ?? null, b: fb[k] ?? null }));
}

/** A measurement's name qualified by its group ('fit=fig4-mse,alpha=0 slope'), as `diff` lists it. */
export const qualifiedMetric = (r: MetricRow): string => {
  const g = Object.entries(r.group).map(([k, v]) => `${k}=${v}`).join(',');
  return g ? `${g} ${r.metric}` : r.metric;
};

export function diffMetrics(a: readonly MetricRow[], b: readonly MetricRow[]): MetricChange[] {
  // Each task's labels count once, beside its measurements.
  const flat = (rows: readonly MetricRow[]): Map<string, MetricValue> => {
    const m = new Map<string, MetricValue>();
    for (const r of rows) {
      m.set(`${r.task}\u0000${qualifiedMetric(r)}`, r.value);
      for (const [k, v] of Object.entries(r.labels)) m.set(`${r.task}\u0000${k}`, v);
    }
    return m;
  };
  const ma = flat(a);
  const mb = flat(b);
  const out: MetricChange[] = [];
  for (const k of new Set([...ma.keys(), ...mb.keys()])) {
    const va = ma.get(k);
    const vb = mb.get(k);
    const [task, metric] = k.split('\u0000') as [string, string];
    if (ma.has(k) && mb.has(k) && va === vb) continue;
    const change: MetricChange = { task, metric, a: va, b: vb };
    if (typeof va === 'number' && typeof vb === 'number') change.delta = vb - va;
    out.push(change);
  }
  return out.sort((x, y) => (x.task === y.task ? x.metric.localeCompare(y.metric) : x.task.localeCompare(y.task)));
}

/**
 * A blob's bytes, hash-checked. A no-op run reads no bytes, so a blob edited on disk can stay
 * until something reads it: the error names the task, its output and the command that repairs it.
 */
async function readBlob(planner: Planner, id: string, output: string, hash: string): Promise<Buffer> {
  try {
    return await planner.store.blobs.read(hash);
  } catch (e) {
    if (!(e instanceof CorruptBlobError)) throw e;
    throw new StoreError(`${id}: output '${output}': ${e.message}; \`${planner.project.name} run -e ${planner.experiment} --verify\` sets it aside and recomputes ${id}`);
  }
}
