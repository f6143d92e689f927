// `check`: the claims' verdicts of a built experiment against its committed baseline
// (<baselinesDir>/<experiment>.json); exits 1 naming each claim whose verdict changed, appeared or
// disappeared. `--update` rewrites the baseline from the current verdicts.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { baselineText, compareVerdicts, readBaseline, updatedBaseline, type Baseline, type VerdictChange } from '../baseline.ts';
import { ConfigError, SetupError, UsageError } from '../errors.ts';
import { selectClosure } from '../graph.ts';
import { inspectTasks } from '../inspect.ts';
import { collectMetrics } from '../results.ts';
import type { MetricValue, Project } from '../types.ts';
import { commonOptions, executorOption, load, plannerFor, print, rel, warn, type CommonOpts } from './common.ts';

const show = (v: MetricValue | undefined): string => (v === null || v === undefined ? '(none)' : String(v));

function changeLine(c: VerdictChange, gate: string): string {
  if (c.kind === 'changed') return `  changed  ${c.id}\n           ${c.column}: ${show(c.was)} → ${show(c.now)}`;
  if (c.kind === 'new') return `  new      ${c.id}\n           ${gate}: ${show(c.now)} (not in the baseline)`;
  return `  gone     ${c.id}\n           ${gate}: was ${show(c.was)}, no longer reported`;
}

export function checkCommand(program: Command, project: Project): void {
  executorOption(commonOptions(program.command('check'), project), project)
    .description("compare the built experiment's claim verdicts with its committed baseline; exit 1 when a verdict changed or a claim appeared or disappeared")
    .option('--baseline <file>', `the baseline file (default: ${project.baselinesDir ? `${path.relative(project.root, project.baselinesDir)}/<experiment>.json` : 'none; this project sets no baselines folder'})`)
    .option('--update', 'write the current verdicts as the baseline (keeping accepted alternatives and notes) instead of comparing')
    .addHelpText('after', `\nExit codes: 0 every claim as in the baseline; 1 a verdict changed, or a claim appeared or disappeared; 2 nothing to compare (no baseline file, or the experiment is not built).\n\nExamples:\n  $ ${project.name} check -e ci              after \`${project.name} run -e ci\`\n  $ ${project.name} check -e ci --update     accept the current verdicts (then commit the file)`)
    .action(async (o: CommonOpts & { baseline?: string; update?: boolean; executor?: string }) => {
      const { graph, variant } = load(project, o);
      const judging = graph.stages.filter((s) => s.metrics?.verdicts).map((s) => s.name);
      if (!judging.length) throw new UsageError(`check: no stage of ${project.name} declares verdicts`);
      const tasks = selectClosure(graph, judging);
      const planner = await plannerFor(project, variant, tasks, 'read', undefined, undefined, o.executor);
      const st = await inspectTasks(planner, tasks);
      warn(planner);
      const table = await collectMetrics(planner, st, (s) => judging.includes(s.name));
      if (table.notCached.length)
        throw new SetupError(`check ${variant.name}: ${table.notCached.length} task(s) that judge the claims are not built (${table.notCached.slice(0, 3).join(', ')}); run: ${project.name} run --experiment ${o.experiment}${Object.entries(variant.overrides).map(([k, v]) => ` --set '${k}=${JSON.stringify(v)}'`).join('')}`);
      const fileArg = o.baseline ?? (project.baselinesDir ? path.join(project.baselinesDir, `${variant.name}.json`) : undefined);
      if (!fileArg) throw new UsageError('check: --baseline <file> is required (this project sets no baselines folder)');
      const file = path.resolve(fileArg);
      const old: Baseline | undefined = existsSync(file) ? readBaseline(file) : undefined;

      if (o.update) {
        const next = updatedBaseline(variant.name, table.gate, table.verdicts, old);
        const before = old ? compareVerdicts(old, table.verdicts) : undefined;
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, baselineText(next));
        return print(o.json, { experiment: variant.name, baseline: file, updated: true, claims: table.verdicts.length, changes: before?.changes ?? [] }, () =>
          `wrote ${rel(file)}: ${table.verdicts.length} claim(s)${before ? (before.changes.length ? `, ${before.changes.length} change(s) from the previous baseline:\n${before.changes.map((c) => changeLine(c, next.gate[0]!)).join('\n')}` : ', unchanged') : ' (new file)'}`);
      }

      if (!old) throw new SetupError(`check ${variant.name}: no baseline at ${rel(file)}; write one from the current verdicts: ${project.name} check --experiment ${o.experiment}${o.baseline ? ` --baseline ${o.baseline}` : ''} --update`);
      if (old.experiment !== variant.name) throw new ConfigError(`${rel(file)}: a baseline of experiment '${old.experiment}', not of '${variant.name}'`);
      const r = compareVerdicts(old, table.verdicts);
      if (!r.ok) process.exitCode = 1;
      const total = table.verdicts.length;
      print(o.json, { experiment: variant.name, baseline: file, ...r }, () => [
        r.ok
          ? `check ${variant.name}: all ${total} claim(s) as in ${rel(file)}`
          : `check ${variant.name}: ${r.changes.length} difference(s) from ${rel(file)} (${r.matched} of ${total} claim(s) unchanged):`,
        ...r.changes.map((c) => changeLine(c, old.gate[0]!)),
        ...(r.accepted.length ? [`accepted alternatives (listed in the baseline): ${r.accepted.map((a) => `${a.id}: ${a.column} ${show(a.now)}`).join('; ')}`] : []),
        ...(r.ok ? [] : [`if the new verdicts are right: ${project.name} check --experiment ${o.experiment}${o.baseline ? ` --baseline ${o.baseline}` : ''} --update, then commit ${rel(file)}`]),
      ].join('\n'));
    });
}
