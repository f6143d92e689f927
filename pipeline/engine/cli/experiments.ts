// `experiments`: every experiment config (and every variant this store has run): task counts and state.
import type { Command } from 'commander';
import { inspectTasks, type TaskStatus } from '../inspect.ts';
import type { Project } from '../types.ts';
import { describeOverrides } from '../variant.ts';
import { experimentNames, loadNamed, print, readPlanner, storeFor } from './common.ts';

export function experimentsCommand(program: Command, project: Project): void {
  program
    .command('experiments')
    .description('every experiment config (and every variant this store has run): task counts and state')
    .option('--json', 'machine-readable output on stdout')
    .action(async (o: { json?: boolean }) => {
      const store = await storeFor(project, 'read');
      const rows: Record<string, unknown>[] = [];
      const configs = experimentNames(project);
      const names = [...configs, ...store.index.variants().filter((n) => !configs.includes(n)).sort()];
      for (const name of names) {
        try {
          const { exp, variant, graph } = loadNamed(project, store, name);
          const planner = readPlanner(project, store, variant);
          const st = await inspectTasks(planner, graph.tasks);
          const n = (s: TaskStatus['state']): number => st.filter((t) => t.state === s).length;
          const [cached, stale, missing] = [n('cached'), n('stale'), n('missing')];
          rows.push({
            name, base: variant.base, overrides: variant.overrides,
            description: typeof exp.config.description === 'string' ? exp.config.description : '',
            tasks: st.length, cached, stale, missing,
            state: cached === st.length ? 'built' : cached === 0 ? 'not built' : 'partial',
          });
        } catch (e) {
          rows.push({ name, error: (e as Error).message.split('\n')[0] });
        }
      }
      print(o.json, { experiments: rows }, () => {
        const w = Math.max(10, ...rows.map((r) => String(r.name).length));
        return [`${'experiment'.padEnd(w)}  ${'tasks'.padStart(6)}  ${'cached'.padStart(6)}  state`,
          ...rows.map((r) => (r.error ? `${String(r.name).padEnd(w)}  invalid: ${String(r.error)}` : `${String(r.name).padEnd(w)}  ${String(r.tasks).padStart(6)}  ${String(r.cached).padStart(6)}  ${String(r.state).padEnd(9)}  ${Object.keys(r.overrides as object).length ? `${String(r.base)} with ${describeOverrides(r.overrides as never)}` : String(r.description)}`))].join('\n');
      });
    });
}
