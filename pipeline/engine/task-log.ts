// A task's log file (the store's logs/<key>.log): every line the task logged, each with the time
// it was logged, between a header naming the task and a last line with its outcome. Kept in
// memory while the task runs and written whole at its end by the process that ran it (a local
// worker, a batch job), so a log file is never partial and costs the scheduler nothing.
// Engine metadata like the record: it holds times and hosts, and is never an artifact.
import os from 'node:os';
import type { TaskResources } from './resources.ts';
import type { Store } from './store.ts';

export class TaskLog {
  private readonly lines: string[] = [];
  private readonly started = Date.now();

  constructor(private readonly task: { id: string; stage: string; key: string }) {}

  add(message: string): void {
    // A message of several lines stays one entry: its other lines indented under its time.
    this.lines.push(`${new Date().toISOString()}  ${message.replace(/\n/g, '\n    ')}`);
  }

  /** The file's text; its last line is the outcome. */
  text(outcome: TaskOutcome): string {
    const { id, stage, key } = this.task;
    return [
      `# task ${id} (stage ${stage}), key ${key}`,
      `# started ${new Date(this.started).toISOString()} on ${os.hostname()}`,
      ...this.lines,
      `# ${new Date().toISOString()}  ${describeOutcome(outcome, Date.now() - this.started)}`,
      '',
    ].join('\n');
  }

  /** Writes the log into the store (before the record, so a record's log is there); returns its path. */
  write(store: Store, outcome: TaskOutcome): Promise<string> {
    return store.logs.write(this.task.key, this.text(outcome));
  }
}

/** How a task ended: its outputs written (with what it cost), or the error it failed with. */
export type TaskOutcome = { ok: true; resources?: TaskResources } | { ok: false; error: string };

function describeOutcome(o: TaskOutcome, ms: number): string {
  if (!o.ok) return `failed after ${(ms / 1000).toFixed(1)}s: ${o.error}`;
  const r = o.resources;
  return `ok in ${(ms / 1000).toFixed(1)}s${r ? `, cpu ${r.cpuS.toFixed(1)}s, peak rss ${formatBytes(r.peakRssBytes)}` : ''}`;
}

/** 1536 -> '1.5 KiB'; for people (tables for machines hold bytes). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
