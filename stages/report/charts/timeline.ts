// Run timeline: one bar per task on its stage's row (not faceted: one panel).

import type { TopLevelSpec } from './data.ts';
import { config } from './style.ts';

/** One task's wall-clock interval, in seconds since the run started. */
export interface TimelineRow {
  stage: string;
  task: string;
  start: number;
  end: number;
  /** e.g. 'executed', 'cached', 'failed', 'diverged'. */
  status?: string;
}

/** Gantt-style chart: one thin bar per task on its stage's row, coloured by status. */
export function timelineChart(rows: readonly TimelineRow[], opts: { title?: string; width?: number } = {}): TopLevelSpec {
  const stages: string[] = [];
  for (const r of rows) if (!stages.includes(r.stage)) stages.push(r.stage);
  return {
    ...(opts.title ? { title: opts.title } : {}),
    config,
    width: opts.width ?? 640,
    height: { step: 22 },
    data: {
      values: rows.map((r) => ({
        stage: r.stage,
        task: r.task,
        start: r.start,
        end: Math.max(r.end, r.start),
        dur: Math.max(0, r.end - r.start),
        status: r.status ?? 'executed',
      })),
    },
    params: [{ name: 'zoom', select: { type: 'interval', encodings: ['x'] }, bind: 'scales' }],
    mark: { type: 'bar', opacity: 0.55, height: 14 },
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: stages, title: null },
      x: { field: 'start', type: 'quantitative', title: 'seconds since start' },
      x2: { field: 'end' },
      color: {
        field: 'status',
        type: 'nominal',
        title: 'status',
        scale: {
          domain: ['executed', 'cached', 'failed', 'diverged'],
          range: ['#4c78a8', '#9ecae9', '#e45756', '#f58518'],
        },
      },
      tooltip: [
        { field: 'task', type: 'nominal' },
        { field: 'status', type: 'nominal' },
        { field: 'start', type: 'quantitative', format: '.2f', title: 'start (s)' },
        { field: 'dur', type: 'quantitative', format: '.2f', title: 'duration (s)' },
      ],
    },
  };
}
