// `results`: the cached tasks' metrics as one tidy table (stage, task, a column per grid axis and
// group coordinate, metric, value, the tasks' labels), or the judged claims as a verdict table.
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../errors.ts';
import { selectClosure } from '../graph.ts';
import { inspectTasks } from '../inspect.ts';
import { collectMetrics, formatTidy, pickColumns, tidyMetrics, tidyVerdicts, type Tidy } from '../results.ts';
import { didYouMean } from '../suggest.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, load, plannerFor, print, warn, type CommonOpts } from './common.ts';

const FORMATS = ['md', 'csv', 'json'] as const;
const isFormat = (f: string): f is (typeof FORMATS)[number] => (FORMATS as readonly string[]).includes(f);

export function resultsCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('results').argument('[stages...]', 'only these stages (default: every stage that declares metrics)'), project), project)
    .description('the cached metrics as one tidy table (stage, task, a column per grid axis, metric, value, status), or the verdict table')
    .option('--format <fmt>', 'md | csv | json (json holds both tables; md rounds numbers to 4 significant digits)', 'md')
    .option('--columns <list>', 'md and csv: only these columns, in this order (comma-separated)')
    .addOption(new Option('--table <name>', 'which table md and csv print: every measurement, or one row per judged claim').choices(['metrics', 'verdicts']).default('metrics'))
    .addHelpText('after', `\nExamples:\n  $ ${project.name} results -e ci --format csv > results.csv       pandas: pd.read_csv('results.csv')\n  $ ${project.name} results -e ci --table verdicts                  one row per claim: verdict, measured slope, interval, bound, reason\n  $ ${project.name} results -e ci --table verdicts --columns claim,verdict,reason\n  $ ${project.name} results -e ci --format json                     {columns, rows, verdictColumns, verdicts, notCached}`)
    .action(async (stages: string[], o: CommonOpts & { format: string; table: 'metrics' | 'verdicts'; columns?: string; executor?: string }) => {
      const format = o.json ? 'json' : o.format;
      if (!isFormat(format)) throw new UsageError(`--format ${format}: expected md, csv or json`);
      const { graph, variant } = load(project, o);
      const known = graph.stages.filter((s) => s.metrics).map((s) => s.name);
      for (const s of stages) if (!known.includes(s)) throw new UsageError(`results ${s}: no stage with metrics of that name${didYouMean(s, known)} (stages with metrics: ${known.join(', ')})`);
      const planner = await plannerFor(project, variant, selectClosure(graph, stages), 'read', undefined, undefined, o.executor);
      const st = await inspectTasks(planner, selectClosure(graph, stages));
      warn(planner);
      const table = await collectMetrics(planner, st, (s) => stages.length === 0 || stages.includes(s.name));
      if (table.notCached.length) process.stderr.write(`note: ${table.notCached.length} task(s) with metrics are not built yet (e.g. ${table.notCached[0]}); run them first\n`);
      const metrics = tidyMetrics(table.rows);
      const verdicts = tidyVerdicts(table.verdicts);
      if (format === 'json') {
        return print(true, { experiment: table.experiment, columns: metrics.columns, rows: metrics.rows, verdictColumns: verdicts.columns, verdicts: verdicts.rows, gate: table.gate, notCached: table.notCached }, () => '');
      }
      if (o.table === 'verdicts' && !table.verdicts.length) process.stderr.write(`note: no claim verdicts among these stages${stages.length ? '' : ' (is the stage that judges them built?)'}\n`);
      let shown: Tidy = o.table === 'verdicts' ? verdicts : metrics;
      if (o.columns !== undefined) {
        const wanted = o.columns.split(',').map((c) => c.trim()).filter(Boolean);
        // An empty table has no columns yet: nothing to check the names against.
        for (const c of wanted) if (shown.rows.length && !shown.columns.includes(c)) throw new UsageError(`--columns ${c}: no such column in the ${o.table} table${didYouMean(c, shown.columns)} (columns: ${shown.columns.join(', ')})`);
        shown = pickColumns(shown, wanted);
      }
      print(false, null, () => formatTidy(shown, format));
    });
}
