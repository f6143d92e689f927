// `status`: task counts per stage (cached | stale | missing); -v: every task that is not cached, and why.
import type { Command } from 'commander';
import { buildGraph, selectClosure, type TaskGraph } from '../graph.ts';
import { brief, inspectTasks } from '../inspect.ts';
import type { Project } from '../types.ts';
import { commonOptions, executorOption, loadConfig, perStage, plannerFor, print, provenPlanFor, stageTable, warn, type CommonOpts } from './common.ts';

export function statusCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('status').argument('[stages...]', 'stages to inspect (default: all)'), project), project)
    .description('task counts per stage (cached | stale | missing); -v: every task that is not cached, and why')
    .option('-v, --verbose', 'every task that is not cached, with its reasons')
    .action(async (stages: string[], o: CommonOpts & { verbose?: boolean; executor?: string }) => {
      const config = loadConfig(project, o);
      const { variant } = config;
      // The plan the last complete run left, proven still cached (proven-plan.ts): no graph, no keys.
      const tried = await provenPlanFor(project, config, stages, 'read', undefined, o.executor);
      let st: ReturnType<typeof brief>[];
      let graph: Pick<TaskGraph, 'stages'>;
      if (tried?.plan) {
        graph = { stages: tried.plan.stages };
        st = tried.plan.tasks.map((t) => ({ id: t.id, stage: t.stage, key: t.key, state: 'cached', reasons: [] }));
      } else {
        const full = buildGraph(project.stages, config.exp.config);
        graph = full;
        const tasks = selectClosure(full, stages);
        const planner = await plannerFor(project, variant, tasks, 'read', tried?.planner.store, undefined, o.executor);
        st = (await inspectTasks(planner, tasks)).map(brief);
        warn(planner);
      }
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
