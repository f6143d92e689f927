// `diff`: how two experiments differ: changed config values, and how each headline metric moved.
import type { Command } from 'commander';
import { collect } from '../flags.ts';
import { selectClosure } from '../graph.ts';
import { inspectTasks } from '../inspect.ts';
import { collectMetrics, diffConfigs, diffMetrics } from '../results.ts';
import type { Project, StageDecl } from '../types.ts';
import { loadNamed, print, readPlanner, storeFor } from './common.ts';

export function diffCommand(program: Command, project: Project): void {
  program
    .command('diff')
    .argument('<a>', 'experiment name or file, or a variant this store has run (e.g. quick+1a2b3c4d)')
    .argument('<b>', 'the same; --set applies to this side')
    .description('how two experiments differ: changed config values, and how each headline metric moved')
    .option('--set <key=value>', 'override a config value of <b> (repeatable)', collect, [])
    .option('--json', 'machine-readable output on stdout')
    .action(async (a: string, b: string, o: { set: string[]; json?: boolean }) => {
      const store = await storeFor(project, 'read');
      const side = (name: string, sets?: string[]) => {
        const l = loadNamed(project, store, name, sets);
        return { ...l, planner: readPlanner(project, store, l.variant) };
      };
      const sides = [side(a), side(b, o.set)] as const;
      const params = diffConfigs(sides[0].exp.config, sides[1].exp.config);
      const headline = (s: StageDecl): boolean => s.metrics?.headline === true;
      const tables = await Promise.all(sides.map(async (s) =>
        collectMetrics(s.planner, await inspectTasks(s.planner, selectClosure(s.graph, s.graph.stages.filter(headline).map((st) => st.name))), headline)));
      const notBuilt = tables.map((t, i) => (t.notCached.length ? `${sides[i]!.variant.name}: ${t.notCached.length} headline task(s) not built (run: ${project.name} run --experiment ${sides[i]!.variant.base}${Object.keys(sides[i]!.variant.overrides).length ? ` ${Object.entries(sides[i]!.variant.overrides).map(([k, v]) => `--set '${k}=${JSON.stringify(v)}'`).join(' ')}` : ''})` : '')).filter(Boolean);
      // A side with no headline task built was never run here: comparing its metrics would list
      // every metric of the other side as '-> (none)', so say that instead, first.
      const neverRun = tables.some((t) => t.rows.length === 0 && t.notCached.length > 0);
      const metrics = neverRun ? [] : diffMetrics(tables[0]!.rows, tables[1]!.rows);
      const fmt = (v: unknown): string => (v === undefined ? '(none)' : typeof v === 'number' ? Number(v.toPrecision(4)).toString() : JSON.stringify(v));
      print(o.json, { a: sides[0].variant.name, b: sides[1].variant.name, params, metrics, notBuilt }, () =>
        [`${sides[0].variant.name} -> ${sides[1].variant.name}`,
          ...(neverRun ? notBuilt.map((n) => `note: ${n}`) : []),
          params.length ? 'changed config values:' : 'no config value differs',
          ...params.map((p) => `  ${p.key}  ${fmt(p.a)} -> ${fmt(p.b)}`),
          ...(metrics.length ? ['headline metrics that moved:', ...metrics.map((m) => `  ${m.task}  ${m.metric}  ${fmt(m.a)} -> ${fmt(m.b)}${m.delta !== undefined ? `  (${m.delta >= 0 ? '+' : ''}${fmt(m.delta)})` : ''}`)] : [notBuilt.length ? '' : 'no headline metric moved']),
          ...(neverRun ? [] : notBuilt.map((n) => `note: ${n}`))].filter(Boolean).join('\n'));
    });
}
