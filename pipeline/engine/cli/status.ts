// `status`: task counts per stage (cached | stale | missing); -v: every task that is not cached, and why.
import type { Command } from 'commander';
import { selectClosure } from '../graph.ts';
import { brief, inspectTasks } from '../inspect.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, load, perStage, plannerFor, print, stageTable, warn, type CommonOpts } from './common.ts';

export function statusCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('status').argument('[stages...]', 'stages to inspect (default: all)'), project), project)
    .description('task counts per stage (cached | stale | missing); -v: every task that is not cached, and why')
    .option('-v, --verbose', 'every task that is not cached, with its reasons')
    .action(async (stages: string[], o: CommonOpts & { verbose?: boolean; executor?: string }) => {
      const { graph, variant } = load(project, o);
      const tasks = selectClosure(graph, stages);
      const planner = await plannerFor(project, variant, tasks, 'read', undefined, undefined, o.executor);
      const st = (await inspectTasks(planner, tasks)).map(brief);
      warn(planner);
      const counts = { cached: 0, stale: 0, missing: 0 };
      for (const t of st) counts[t.state]++;
      const states = ['cached', 'stale', 'missing'];
      const byStage = perStage(graph, st, states);
      print(o.json, { experiment: variant.name, counts, stages: byStage, tasks: st }, () =>
        [stageTable(byStage, states),
          ...(o.verbose ? st.filter((t) => t.state !== 'cached').map((t) => `${t.state.padEnd(8)}${t.id}  ${t.reasons.join('; ')}`) : []),
          `${st.length} task(s): ${counts.cached} cached, ${counts.stale} stale, ${counts.missing} missing${!o.verbose && counts.cached < st.length ? ' (-v: each task and why)' : ''}`].join('\n'));
    });
}
