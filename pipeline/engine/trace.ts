// `trace`: one row per task with what its last run cost (wall time, CPU seconds, peak RSS) and
// where it ran, read from the records, like Nextflow's trace file. Engine metadata, never an
// artifact: it holds times and hosts.
import type { TaskStatus } from './inspect.ts';
import type { Planner } from './planner.ts';
import { formatTable } from './results.ts';
import type { TaskRecord } from './store.ts';
import type { MetricValue, TaskKey } from './types.ts';

/**
 * 'cached': the record of the task's current key. 'stale': the task would run again, the row is
 * its last record's. 'failed': its last run with the current inputs failed (its log is there, no
 * record). 'missing': never computed.
 */
export type TraceStatus = 'cached' | 'stale' | 'failed' | 'missing';

export interface TraceRow {
  task: string;
  stage: string;
  status: TraceStatus;
  /** The key of the record the row shows (or of the failed run), else null. */
  key: string | null;
  started: string | null;
  wall_s: number | null;
  cpu_s: number | null;
  peak_rss_bytes: number | null;
  /** 'task' or 'process' (resources.ts); null where the record holds no resources. */
  rss_scope: string | null;
  host: string | null;
  /** A batch executor's job ('<kind> <job id>'), else null (a local worker). */
  job: string | null;
  /** The task's log file in the store, where there is one. */
  log: string | null;
}

export const TRACE_COLUMNS = ['task', 'stage', 'status', 'key', 'started', 'wall_s', 'cpu_s', 'peak_rss_bytes', 'rss_scope', 'host', 'job', 'log'] as const;

/** A row per task of `statuses`, in their order. */
export async function traceRows(planner: Planner, statuses: readonly TaskStatus[]): Promise<TraceRow[]> {
  const { store } = planner;
  const rows: TraceRow[] = [];
  for (const st of statuses) {
    let record: TaskRecord | undefined;
    let status: TraceStatus = st.state;
    if (st.state === 'cached' && st.key) record = planner.record(st.key as TaskKey);
    // A log and no record file: that run failed (a bad record's task is stale or missing, not failed).
    else if (st.key && store.logs.exists(st.key) && store.records.sig(st.key) === undefined) status = 'failed';
    else if (st.state === 'stale') {
      const prev = await store.index.key(planner.experiment, st.id);
      record = prev ? planner.record(prev) : undefined;
    }
    const key = record?.key ?? (status === 'failed' ? st.key! : null);
    const r = record?.resources;
    rows.push({
      task: st.id,
      stage: st.stage,
      status,
      key,
      started: record?.startedAt ?? null,
      wall_s: record ? Math.round(record.durationMs) / 1000 : null,
      cpu_s: r?.cpuS ?? null,
      peak_rss_bytes: r?.peakRssBytes ?? null,
      rss_scope: r?.peakRssScope ?? null,
      host: record?.host ?? null,
      job: record?.executor ? `${record.executor.kind} ${record.executor.jobId}` : null,
      log: key && store.logs.exists(key) ? store.logs.path(key) : null,
    });
  }
  return rows;
}

export const TRACE_FORMATS = ['tsv', 'csv', 'json'] as const;
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** The rows as a table with a header line; an empty cell where a value is null. */
export function formatTrace(rows: readonly TraceRow[], format: Exclude<TraceFormat, 'json'>): string {
  const cells: MetricValue[][] = rows.map((r) => TRACE_COLUMNS.map((c) => r[c]));
  if (format === 'csv') return formatTable(TRACE_COLUMNS, cells, 'csv');
  // TSV has no quoting: a tab or line break inside a value (a host name?) becomes a space.
  const tsv = (v: MetricValue): string => (v === null ? '' : String(v).replace(/[\t\r\n]/g, ' '));
  return [TRACE_COLUMNS.join('\t'), ...cells.map((r) => r.map(tsv).join('\t'))].join('\n');
}
