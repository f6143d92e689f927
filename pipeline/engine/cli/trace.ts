// `trace`: per task, what its last run cost and where it ran (wall, CPU, peak RSS, host, job,
// log), as TSV, CSV or JSON: Nextflow's trace file, read from the store's records.
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { selectClosure } from '../graph.ts';
import { brief, inspectTasks } from '../inspect.ts';
import { formatTrace, traceRows, TRACE_FORMATS, type TraceFormat } from '../trace.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, load, plannerFor, print, warn, type CommonOpts } from './common.ts';

const isFormat = (f: string): f is TraceFormat => (TRACE_FORMATS as readonly string[]).includes(f);

export function traceCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('trace').argument('[stages...]', 'these stages and what they need (default: all)'), project), project)
    .description("per task: status, wall and CPU seconds, peak RSS, host, job and log of its last run (like Nextflow's trace)")
    .option('--format <fmt>', 'tsv | csv | json', 'tsv')
    .addHelpText(
      'after',
      [
        '',
        'Columns: task, stage, status (cached | stale | failed | missing), key, started, wall_s,',
        '  cpu_s (user + system seconds, child processes included), peak_rss_bytes,',
        '  rss_scope (task: the peak RSS of the process while it ran the task; process: its peak over',
        '  its life, an upper bound), host, job (a batch job), log (the task log in the store).',
        "A stale task's row is its last record's; a failed one has only its log. A cell is empty where",
        'the record holds no value (records older than these fields, executors that do not measure).',
      ].join('\n'),
    )
    .action(async (stages: string[], o: CommonOpts & { format: string; executor?: string }) => {
      const format = o.json ? 'json' : o.format;
      if (!isFormat(format)) throw new UsageError(`--format ${format}: expected tsv, csv or json`);
      const { graph, variant } = load(project, o);
      const tasks = selectClosure(graph, stages);
      const planner = await plannerFor(project, variant, tasks, 'read', undefined, undefined, o.executor);
      const st = (await inspectTasks(planner, tasks)).map(brief);
      const rows = await traceRows(planner, st);
      warn(planner);
      if (format === 'json') return print(true, { experiment: variant.name, tasks: rows }, () => '');
      print(false, rows, () => formatTrace(rows, format));
    });
}
