// `results`: every metric of the cached tasks as one table: task, stage, metric, value.
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { selectClosure } from '../graph.ts';
import { inspectTasks } from '../inspect.ts';
import { collectMetrics, formatTable } from '../results.ts';
import { didYouMean } from '../suggest.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, load, plannerFor, print, warn, type CommonOpts } from './common.ts';

const FORMATS = ['md', 'csv', 'json'] as const;
const isFormat = (f: string): f is (typeof FORMATS)[number] => (FORMATS as readonly string[]).includes(f);

export function resultsCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('results').argument('[stages...]', 'only these stages (default: every stage that declares metrics)'), project), project)
    .description('every metric of the cached tasks as one table: task, stage, metric, value')
    .option('--format <fmt>', 'md | csv | json', 'md')
    .action(async (stages: string[], o: CommonOpts & { format: string; executor?: string }) => {
      const format = o.format;
      if (!isFormat(format)) throw new UsageError(`--format ${format}: expected md, csv or json`);
      const { graph, variant } = load(project, o);
      const known = graph.stages.filter((s) => s.metrics).map((s) => s.name);
      for (const s of stages) if (!known.includes(s)) throw new UsageError(`results ${s}: no stage with metrics of that name${didYouMean(s, known)} (stages with metrics: ${known.join(', ')})`);
      const planner = await plannerFor(project, variant, selectClosure(graph, stages), 'read', undefined, undefined, o.executor);
      const st = await inspectTasks(planner, selectClosure(graph, stages));
      warn(planner);
      const table = await collectMetrics(planner, st, (s) => stages.length === 0 || stages.includes(s.name));
      if (table.notCached.length) process.stderr.write(`note: ${table.notCached.length} task(s) with metrics are not built yet (e.g. ${table.notCached[0]}); run them first\n`);
      if (o.json || format === 'json') return print(true, table, () => '');
      print(false, table, () => formatTable(['task', 'stage', 'metric', 'value'], table.rows.map((r) => [r.task, r.stage, r.metric, r.value]), format));
    });
}
