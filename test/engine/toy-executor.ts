// A toy executor, the whole of it: runs each task in this process, one at a time, and brings a
// flag of its own, a dry-run plan, a `show` clause and a gc hook. Adding it to an engine takes
// this module and one line in pipeline/engine/executors/registry.ts (the test registers it).
import type { Executor, ExecJob, ExecResult } from '../../pipeline/engine/executor.ts';
import type { ExecutorKind } from '../../pipeline/engine/executors/kind.ts';
import type { TaskEvents } from '../../pipeline/engine/pool.ts';
import { runTask } from '../../pipeline/engine/run-task.ts';
import type { Store } from '../../pipeline/engine/store.ts';

class InlineExecutor implements Executor {
  readonly writesRecords = false;
  private readonly abort = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly label: string,
  ) {}

  run(job: ExecJob, events: TaskEvents): Promise<ExecResult> {
    const next = this.queue.then(async (): Promise<ExecResult> => {
      events.log(`${this.label}: ${job.task.id}`);
      return { kind: 'outputs', outputs: await runTask(job.stage, job.task, this.store, events, this.abort.signal) };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async kill(): Promise<void> {
    this.abort.abort();
  }

  close(): void {}
}

export const inlineExecutor: ExecutorKind = {
  name: 'inline',
  runtime: 'local',
  jobsHelp: 'inline: ignored, one at a time',
  runOptions: (cmd) => cmd.option('--inline-label <text>', 'inline: the word before each task id in its log', 'inline'),
  configure: (flags) => {
    const label = typeof flags.inlineLabel === 'string' ? flags.inlineLabel : 'inline';
    return {
      defaultJobs: 1,
      create: ({ store }) => new InlineExecutor(store, label),
      plan: async ({ stages }) => ({
        json: { inline: stages.map((s) => ({ stage: s.stage, tasks: s.run })) },
        lines: [`inline (${label}): ${stages.map((s) => `${s.stage} ${s.run}`).join(', ')}`],
      }),
    };
  },
  lastJob: () => undefined,
  gc: () => ({ sweep: async () => ({ removed: [], fields: { removedInline: 0 } }) }),
};
