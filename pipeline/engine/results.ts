// `results`: every metric the stages declare, read from cached records, as one long table
// (task, stage, metric, value), like `dvc metrics show`; and `diff` of two experiments.
import type { Planner } from './planner.ts';
import type { TaskStatus } from './inspect.ts';
import type { Json, JsonObject, MetricValue, StageDecl } from './types.ts';

export interface MetricRow {
  task: string;
  stage: string;
  metric: string;
  value: MetricValue;
}

export interface MetricsTable {
  experiment: string;
  rows: MetricRow[];
  /** Tasks of metric-declaring stages that have no valid record yet (run them first). */
  notCached: string[];
}

/** Metrics of the cached tasks among `statuses` whose stage declares metrics (and passes `only`). */
export async function collectMetrics(planner: Planner, statuses: readonly TaskStatus[], only?: (s: StageDecl) => boolean): Promise<MetricsTable> {
  const stages = new Map(planner.project.stages.map((s) => [s.name, s]));
  const rows: MetricRow[] = [];
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
      if (stage.outputs[name]?.kind === 'json') outputs[name] = JSON.parse((await planner.store.blobs.read(out.hash)).toString('utf8')) as Json;
    for (const [metric, value] of Object.entries(stage.metrics.read(outputs, { id: st.id, axes: record.axes })))
      rows.push({ task: st.id, stage: st.stage, metric, value });
  }
  return { experiment: planner.experiment, rows, notCached };
}

const csvCell = (v: MetricValue): string => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const mdCell = (v: MetricValue): string => (v === null ? '' : String(v).replaceAll('|', '\\|'));

export function formatTable(columns: readonly string[], rows: readonly MetricValue[][], format: 'csv' | 'md'): string {
  if (format === 'csv') return [columns.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n');
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

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

export function diffMetrics(a: readonly MetricRow[], b: readonly MetricRow[]): MetricChange[] {
  const key = (r: MetricRow): string => `${r.task}\u0000${r.metric}`;
  const ma = new Map(a.map((r) => [key(r), r]));
  const mb = new Map(b.map((r) => [key(r), r]));
  const out: MetricChange[] = [];
  for (const k of new Set([...ma.keys(), ...mb.keys()])) {
    const ra = ma.get(k);
    const rb = mb.get(k);
    const [task, metric] = k.split('\u0000') as [string, string];
    if (ra && rb && ra.value === rb.value) continue;
    const change: MetricChange = { task, metric, a: ra?.value, b: rb?.value };
    if (typeof ra?.value === 'number' && typeof rb?.value === 'number') change.delta = rb.value - ra.value;
    out.push(change);
  }
  return out.sort((x, y) => (x.task === y.task ? x.metric.localeCompare(y.metric) : x.task.localeCompare(y.task)));
}
